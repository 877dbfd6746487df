import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { call, callError } from "./call.ts";

Deno.test("chunklist, concat, flatten, reverse, slice", () => {
  assertEquals(call("chunklist", [["a", "b", "c", "d", "e"], 2]), [["a", "b"], ["c", "d"], ["e"]]);
  assertEquals(call("chunklist", [["a", "b"], 0]), [["a", "b"]]);
  assertEquals(call("concat", [["a", ""], ["b", "c"]]), ["a", "", "b", "c"]);
  assertEquals(call("flatten", [[["a", "b"], [], ["c"]]]), ["a", "b", "c"]);
  assertEquals(call("flatten", [[[["a", []], ["b"]], "c"]]), ["a", "b", "c"]);
  assertEquals(call("reverse", [[1, 2, 3]]), [3, 2, 1]);
  assertEquals(call("slice", [["a", "b", "c", "d"], 1, 3]), ["b", "c"]);
  assertEquals(
    callError("slice", [[1, 2, 3], 2, 1]).message,
    'Invalid value for "start_index" parameter: start index must not be greater than end index',
  );
});

Deno.test("coalesce skips nulls and empty strings; coalescelist empty lists", () => {
  assertEquals(call("coalesce", ["a", "b"]), "a");
  assertEquals(call("coalesce", ["", "b"]), "b");
  assertEquals(call("coalesce", [null, "x"]), "x");
  // The arguments unify first: a number among strings becomes a string.
  assertEquals(call("coalesce", [1, "a"]), "1");
  assertEquals(
    callError("coalesce", ["", null]).message,
    "no non-null, non-empty-string arguments",
  );
  assertEquals(call("coalescelist", [[], ["c", "d"]]), ["c", "d"]);
  assertEquals(callError("coalescelist", [[], []]).message, "no non-null arguments");
});

Deno.test("compact, contains, index, element", () => {
  assertEquals(call("compact", [["a", "", "b", null, "c"]]), ["a", "b", "c"]);
  assertEquals(call("contains", [["a", "b", "c"], "a"]), true);
  assertEquals(call("contains", [[1, 2], "1"]), false);
  assertEquals(call("index", [["a", "b", "c"], "b"]), 1);
  assertEquals(callError("index", [["a", "b"], "z"]).message, "item not found");
  assertEquals(call("element", [["a", "b", "c"], 1]), "b");
  assertEquals(call("element", [["a", "b", "c"], 3]), "a");
  assertEquals(
    callError("element", [[], 0]).message,
    "cannot use element function with an empty list",
  );
});

Deno.test("maps: keys values lookup merge zipmap transpose length", () => {
  assertEquals(call("keys", [{ c: 2, a: 1, d: 3 }]), ["a", "c", "d"]);
  assertEquals(call("values", [{ a: 3, c: 2, d: 1 }]), [3, 2, 1]);
  assertEquals(call("lookup", [{ a: "ay", b: "bee" }, "a", "what?"]), "ay");
  assertEquals(call("lookup", [{ a: "ay", b: "bee" }, "c", "what?"]), "what?");
  assertEquals(call("merge", [{ a: "b", c: "d" }, { e: "f", c: "z" }]), { a: "b", c: "z", e: "f" });
  assertEquals(call("zipmap", [["a", "b"], [1, 2]]), { a: 1, b: 2 });
  assertEquals(
    callError("zipmap", [["a", "b"], [1]]).message,
    "number of keys (2) does not match number of values (1)",
  );
  assertEquals(call("transpose", [{ a: ["1", "2"], b: ["2", "3"] }]), {
    "1": ["a"],
    "2": ["a", "b"],
    "3": ["b"],
  });
  assertEquals(call("length", [{ a: "b" }]), 1);
  assertEquals(call("length", [[]]), 0);
  assertEquals(callError("length", [5]).argument, 0);
});

Deno.test("range counts up or down, at most 1024 values", () => {
  assertEquals(call("range", [3]), [0, 1, 2]);
  assertEquals(call("range", [1, 4]), [1, 2, 3]);
  assertEquals(call("range", [1, 8, 2]), [1, 3, 5, 7]);
  assertEquals(call("range", [1, 4, 0.5]), [1, 1.5, 2, 2.5, 3, 3.5]);
  assertEquals(call("range", [4, 1]), [4, 3, 2]);
  assertEquals(call("range", [10, 5, -2]), [10, 8, 6]);
  assertEquals(call("range", [-3]), [0, -1, -2]);
  assertEquals(
    callError("range", [1, 4, 0]).message,
    "more than 1024 values were generated; either decrease the difference between start and end or use a smaller step",
  );
  assertEquals(
    callError("range", [1, 4, -1]).message,
    'Invalid value for "params" parameter: end must be less than start when step is negative',
  );
  assertEquals(callError("coalesce", [true, 1]).message, "all arguments must have the same type");
  assertEquals(
    callError("reverse", ["ab"]).message,
    'Invalid value for "list" parameter: can only reverse list or tuple values, not string',
  );
});

Deno.test("sort, sum, alltrue, anytrue, one", () => {
  assertEquals(call("sort", [["e", "d", "a", "x"]]), ["a", "d", "e", "x"]);
  // sort compares as strings, so 10 comes before 3.
  assertEquals(call("sort", [[3, 1, "a", 10]]), ["1", "10", "3", "a"]);
  assertEquals(call("sum", [[10, 13, 6, 4.5]]), 33.5);
  assertEquals(callError("sum", [[]]).message, "cannot sum an empty list");
  assertEquals(call("alltrue", [["true", true]]), true);
  assertEquals(call("alltrue", [[]]), true);
  assertEquals(call("anytrue", [[]]), false);
  assertEquals(call("anytrue", [[false, "true"]]), true);
  assertEquals(call("one", [[]]), null);
  assertEquals(call("one", [["hello"]]), "hello");
  assertEquals(callError("one", [["a", "b"]]).argument, 0);
});

Deno.test("sets: unified, deduplicated, in cty's order", () => {
  assertEquals(call("distinct", [["a", "b", "a", "c", "d", "b"]]), ["a", "b", "c", "d"]);
  assertEquals(call("setintersection", [["a", "b"], ["b", "c"], ["b", "d"]]), ["b"]);
  assertEquals(call("setsubtract", [["a", "b", "c"], ["a", "c"]]), ["b"]);
  assertEquals(call("setunion", [["a", "b"], ["b", "c"], ["d"]]), ["a", "b", "c", "d"]);
  assertEquals(call("setunion", [["b"], ["a", 1]]), ["1", "a", "b"]);
  assertEquals(call("setunion", [[3, 1], [2, 10]]), [1, 2, 3, 10]);
  assertEquals(call("setproduct", [["development", "staging"], ["app1", "app2"]]), [
    ["development", "app1"],
    ["development", "app2"],
    ["staging", "app1"],
    ["staging", "app2"],
  ]);
  assertEquals(call("setproduct", [["a"], []]), []);
  assertEquals(callError("setproduct", [["a"]]).message, "at least two arguments are required");
});

Deno.test("conversion functions", () => {
  assertEquals(call("tobool", ["true"]), true);
  assertEquals(call("tonumber", ["1.5"]), 1.5);
  assertEquals(call("tostring", [1.5]), "1.5");
  assertEquals(call("tostring", [null]), null);
  assertEquals(call("tolist", [["a", 1]]), ["a", "1"]);
  assertEquals(call("toset", [["b", "a", "b"]]), ["a", "b"]);
  assertEquals(call("tomap", [{ a: 1, b: "x" }]), { a: "1", b: "x" });
  assertEquals(
    callError("tonumber", ["x"]).message,
    'Invalid value for "v" parameter: cannot convert "x" to number; given string must be a decimal representation of a number',
  );
  assertEquals(
    callError("tobool", ["yes"]).message,
    'Invalid value for "v" parameter: cannot convert "yes" to bool; only the strings "true" or "false" are allowed',
  );
  assertEquals(
    callError("tostring", [[1]]).message,
    'Invalid value for "v" parameter: cannot convert tuple to string',
  );
  assertEquals(
    callError("tolist", [[1, true]]).message,
    'Invalid value for "v" parameter: cannot convert tuple to list of any single type: all elements must have the same type',
  );
});
