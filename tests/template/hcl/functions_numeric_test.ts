import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { call, callError } from "./call.ts";

Deno.test("abs ceil floor signum pow log", () => {
  assertEquals(call("abs", [-12.4]), 12.4);
  assertEquals(call("abs", ["-3"]), 3);
  assertEquals(call("ceil", [4.1]), 5);
  assertEquals(call("floor", [-4.9]), -5);
  assertEquals(call("signum", [-13]), -1);
  assertEquals(call("signum", [0]), 0);
  assertEquals(call("pow", [3, 2]), 9);
  assertEquals(call("log", [16, 2]), 4);
  assertEquals(
    callError("abs", ["x"]).message,
    'Invalid value for "num" parameter: a number is required',
  );
});

Deno.test("max and min take any number of numbers, at least one", () => {
  assertEquals(call("max", [12, 54, 3]), 54);
  assertEquals(call("min", [12, 54, 3]), 3);
  assertEquals(call("max", ["7", 2]), 7);
  assertEquals(callError("max", []).message, "must pass at least one number");
});

Deno.test("parseint reads bases 2 to 62 as Go's big.Int does", () => {
  assertEquals(call("parseint", ["100", 10]), 100);
  assertEquals(call("parseint", ["FF", 16]), 255);
  assertEquals(call("parseint", ["-10", 16]), -16);
  assertEquals(call("parseint", ["1011111011101111", 2]), 48879);
  assertEquals(call("parseint", ["aA", 62]), 656);
  const bad = callError("parseint", ["12", 2]);
  assertEquals([bad.message, bad.argument], [
    'Invalid value for "number" parameter: cannot parse "12" as a base 2 integer',
    0,
  ]);
  assertEquals(
    callError("parseint", ["", 10]).message,
    'Invalid value for "number" parameter: cannot parse "" as a base 10 integer',
  );
  assertEquals(callError("parseint", ["1", 63]).argument, 1);
});
