import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { call, callError } from "./call.ts";

Deno.test("base64encode and base64decode work on UTF-8", () => {
  assertEquals(call("base64encode", ["Hello World"]), "SGVsbG8gV29ybGQ=");
  assertEquals(call("base64decode", ["SGVsbG8gV29ybGQ="]), "Hello World");
  assertEquals(callError("base64decode", ["!!"]).message, "failed to decode base64 data '!!'");
  // Go's StdEncoding wants the padding.
  assertEquals(callError("base64decode", ["SGVsbG8"]).argument, 0);
  assertEquals(
    callError("base64decode", ["/w=="]).message,
    "the result of decoding the provided string is not valid UTF-8",
  );
});

Deno.test("textencodebase64 and textdecodebase64 take IANA encoding names", () => {
  assertEquals(
    call("textencodebase64", ["Hello World", "UTF-16LE"]),
    "SABlAGwAbABvACAAVwBvAHIAbABkAA==",
  );
  assertEquals(
    call("textdecodebase64", ["SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE"]),
    "Hello World",
  );
  assertEquals(call("textencodebase64", ["é", "latin1"]), "6Q==");
  assertEquals(call("textdecodebase64", ["gA==", "windows-1252"]), "€");
  assertMatch(
    callError("textencodebase64", ["x", "EBCDIC-nope"]).message,
    /not a supported IANA encoding/,
  );
  assertMatch(callError("textencodebase64", ["€", "ISO-8859-1"]).message, /cannot be represented/);
});

Deno.test("csvdecode: header row names the fields", () => {
  assertEquals(call("csvdecode", ["a,b,c\n1,2,3\n4,5,6"]), [
    { a: "1", b: "2", c: "3" },
    { a: "4", b: "5", c: "6" },
  ]);
  assertEquals(call("csvdecode", ['a,b\n1,"x,y"\n3,"say ""hi"""']), [
    { a: "1", b: "x,y" },
    { a: "3", b: 'say "hi"' },
  ]);
  assertEquals(call("csvdecode", ["a,b\r\n1,2\r\n"]), [{ a: "1", b: "2" }]);
  assertEquals(
    callError("csvdecode", ["a,b\n1"]).message,
    "record on line 2: wrong number of fields",
  );
  assertEquals(callError("csvdecode", [""]).message, "missing header line");
});

Deno.test("jsonencode writes Go's JSON; jsondecode reads any JSON", () => {
  assertEquals(call("jsonencode", [{ hello: "world" }]), '{"hello":"world"}');
  assertEquals(
    call("jsonencode", [{ b: [1, 2.5, true, null], a: "<&>" }]),
    '{"a":"\\u003c\\u0026\\u003e","b":[1,2.5,true,null]}',
  );
  assertEquals(call("jsonencode", [1e21]), "1000000000000000000000");
  assertEquals(call("jsondecode", ['{"hello": "world"}']), { hello: "world" });
  assertEquals(call("jsondecode", ["[1, 2.5e3, null]"]), [1, 2500, null]);
  assertEquals(callError("jsondecode", ["{bad"]).argument, 0);
});

Deno.test("urlencode escapes as Go's QueryEscape", () => {
  assertEquals(call("urlencode", ["Hello World"]), "Hello+World");
  assertEquals(call("urlencode", ["☃"]), "%E2%98%83");
  assertEquals(
    call("urlencode", ["foo:bar@localhost?foo=bar&bar=baz"]),
    "foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz",
  );
  assertEquals(call("urlencode", ["a-b_c.d~e/f"]), "a-b_c.d~e%2Ff");
});

Deno.test("yamldecode reads YAML 1.1 as Packer does", () => {
  assertEquals(call("yamldecode", ["hello: world"]), { hello: "world" });
  assertEquals(call("yamldecode", ["true"]), true);
  assertEquals(call("yamldecode", ["{a: &foo [1, 2, 3], b: *foo}"]), {
    a: [1, 2, 3],
    b: [1, 2, 3],
  });
  assertEquals(call("yamldecode", ["a: [1, yes, 2020-01-01, ~]"]), {
    a: [1, true, "2020-01-01T00:00:00Z", null],
  });
  assertEquals(
    callError("yamldecode", ["a: 1\n---\nb: 2"]).message,
    "on line 2, column 1: unexpected extra content after value",
  );
  assertMatch(callError("yamldecode", ["*nowhere"]).message, /Unresolved alias/);
});

Deno.test("yamlencode writes what Packer's emitter writes", () => {
  assertEquals(call("yamlencode", [{ a: "b", c: "d" }]), '"a": "b"\n"c": "d"\n');
  assertEquals(
    call("yamlencode", [{ foo: [1, { a: "b", c: "d" }, 3], bar: "baz" }]),
    '"bar": "baz"\n"foo":\n- 1\n- "a": "b"\n  "c": "d"\n- 3\n',
  );
  assertEquals(
    call("yamlencode", [{ b: [1, { c: "d" }], a: "x\ny", e: {}, f: [], g: null, h: true }]),
    '"a": |-\n  x\n  y\n"b":\n- 1\n- "c": "d"\n"e": {}\n"f": []\n"g": null\n"h": true\n',
  );
  assertEquals(
    call("yamlencode", [["a\n", " b\nc", "x \ny", [1, [2]], { a: { b: 1 } }, "é\t"]]),
    '- |\n  a\n- |2-\n   b\n  c\n- "x \\ny"\n- - 1\n  - - 2\n- "a":\n    "b": 1\n- "é\\t"\n',
  );
  assertEquals(call("yamlencode", ["a"]), '"a"\n');
  assertEquals(call("yamlencode", [1]), "1\n...\n");
});
