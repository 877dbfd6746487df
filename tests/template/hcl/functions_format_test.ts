import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { call, callError } from "./call.ts";

const format = (...args: unknown[]) => call("format", args as never);

Deno.test("format: documented examples", () => {
  assertEquals(format("Hello, %s!", "Ander"), "Hello, Ander!");
  assertEquals(format("There are %d lights", 4), "There are 4 lights");
  assertEquals(format("%[2]s %[1]s", "a", "b"), "b a");
});

Deno.test("format: %v picks a format by type; %#v is JSON", () => {
  assertEquals(format("%v|%v|%v|%v", 1000000, 1.5, true, "s"), "1e+06|1.5|true|s");
  assertEquals(format("%v", null), "null");
  assertEquals(format("%v", { b: 1, a: "x" }), '{"a":"x","b":1}');
  assertEquals(format("%#v|%#v", "a", [1, "b"]), '"a"|[1,"b"]');
});

Deno.test("format: flags, width and precision as Go's fmt", () => {
  assertEquals(format("%5.2f|%-5d|%05d|%+d|% d", 3.14159, 42, 42, 5, 5), " 3.14|42   |00042|+5| 5");
  assertEquals(
    format("%x|%X|%o|%b|%e|%E", 255, 255, 8, 5, 12345.678, 0.000123),
    "ff|FF|10|101|1.234568e+04|1.230000E-04",
  );
  assertEquals(
    format("%.3g|%g|%g|%.2e", 1.0, 0.0001, 123456789, 2.5),
    "1|0.0001|1.23456789e+08|2.50e+00",
  );
  assertEquals(format("%08.3f|%+.2f|%x|%#x", -3.14159, 2.0, -255, 255), "-003.142|+2.00|-ff|0xff");
  assertEquals(
    format("%q|%-8q|%.3s|%5.1q", "<é\n\t", "a", "héllo", "abc"),
    '"\\u003cé\\n\\t"|"a"     |hél|  "a"',
  );
  assertEquals(format("%05s|%5t|%-6v|", "ab", true, false), "000ab|true|false |");
});

Deno.test("format: rounding is to even on the exact value, like Go", () => {
  assertEquals(format("%.0f|%.0f|%.1f|%.2f", 2.5, 3.5, 0.25, 1.005), "2|4|0.2|1.00");
});

Deno.test("format: arguments convert to the verb's type", () => {
  assertEquals(format("%d", "12"), "12");
  assertEquals(format("%t", "true"), "true");
  assertEquals(format("%s", true), "true");
  assertEquals(format("%s|%d", 1.5, 1e21), "1.5|1000000000000000000000");
});

Deno.test("format: errors say what and where, as cty does", () => {
  assertEquals(
    callError("format", ["%s %s", "a"]).message,
    'not enough arguments for "%s" at 3: need index 2 but have 1 total',
  );
  assertEquals(callError("format", ["abc%"]).message, "invalid format string starting at offset 4");
  assertEquals(
    callError("format", ["%v", "x", "y"]).message,
    'Invalid value for "args" parameter: too many arguments; only 1 used by format string',
  );
  assertEquals(
    callError("format", ["plain", "y"]).message,
    'Invalid value for "args" parameter: too many arguments; no verbs in format string',
  );
  assertEquals(
    callError("format", ["%z", 1]).message,
    `unsupported format verb 'z' in "%z" at offset 0`,
  );
  const d = callError("format", ["%d", 1.5]);
  assertEquals([d.message, d.argument], [
    'unsupported value for "%d" at 0: an integer is required',
    1,
  ]);
  assertEquals(
    callError("format", ["%s", [1]]).message,
    'unsupported value for "%s" at 0: string required',
  );
  assertEquals(
    callError("format", ["%s", null]).message,
    'unsupported value for "%s" at 0: null value cannot be formatted',
  );
});

Deno.test("formatlist: one string per element, scalars repeated", () => {
  assertEquals(call("formatlist", ["Hello, %s!", ["Valentina", "Ander"]]), [
    "Hello, Valentina!",
    "Hello, Ander!",
  ]);
  assertEquals(call("formatlist", ["%s, %s!", "Salutations", ["Valentina", "Ander"]]), [
    "Salutations, Valentina!",
    "Salutations, Ander!",
  ]);
  assertEquals(call("formatlist", ["%s", "a"]), ["a"]);
  assertEquals(
    callError("formatlist", ["%s %s", ["a"], ["b", "c"]]).message,
    'Invalid value for "args" parameter: argument 2 has length 2, which is inconsistent with argument 1 of length 1',
  );
});
