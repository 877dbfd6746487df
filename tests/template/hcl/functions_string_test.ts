import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { call, callError } from "./call.ts";

Deno.test("chomp removes every trailing newline, and only those", () => {
  assertEquals(call("chomp", ["hello\n"]), "hello");
  assertEquals(call("chomp", ["hello\r\n"]), "hello");
  assertEquals(call("chomp", ["hello\n\n"]), "hello");
  assertEquals(call("chomp", ["a\nb"]), "a\nb");
});

Deno.test("indent pads every line but the first", () => {
  assertEquals(call("indent", [2, "[\n  foo,\n  bar,\n]\n"]), "[\n    foo,\n    bar,\n  ]\n  ");
});

Deno.test("join concatenates lists with a separator", () => {
  assertEquals(call("join", [", ", ["foo", "bar", "baz"]]), "foo, bar, baz");
  assertEquals(call("join", [", ", ["foo"], ["bar", 1]]), "foo, bar, 1");
  assertEquals(callError("join", ["-"]).message, "at least one list is required");
  assertEquals(callError("join", [",", ["a", null]]).argument, 1);
});

Deno.test("case functions", () => {
  assertEquals(call("lower", ["HELLO ÀÉ"]), "hello àé");
  assertEquals(call("upper", ["hello àé"]), "HELLO ÀÉ");
  assertEquals(call("title", ["hello world-foo_bar x.y"]), "Hello World-Foo_bar X.Y");
});

Deno.test("split splits around every separator", () => {
  assertEquals(call("split", [",", "foo,bar,baz"]), ["foo", "bar", "baz"]);
  assertEquals(call("split", [",", ""]), [""]);
  assertEquals(call("split", ["", "abc"]), ["a", "b", "c"]);
});

Deno.test("strrev, substr and length count grapheme clusters", () => {
  assertEquals(call("strrev", ["hello"]), "olleh");
  assertEquals(call("strrev", ["a\u0301b"]), "ba\u0301");
  assertEquals(call("substr", ["hello world", 1, 4]), "ello");
  assertEquals(call("substr", ["🤔🤷", 0, 1]), "🤔");
  assertEquals(call("substr", ["hello world", -5, -1]), "world");
  assertEquals(call("substr", ["hello", 0, 10]), "hello");
  assertEquals(call("length", ["a\u0301"]), 1);
  assertEquals(call("substr", ["hello", 10, 1]), "");
});

Deno.test("trim functions", () => {
  assertEquals(call("trim", ["?!hello?!", "!?"]), "hello");
  assertEquals(call("trim", ["foobar", "far"]), "oob");
  assertEquals(call("trimprefix", ["helloworld", "hello"]), "world");
  assertEquals(call("trimprefix", ["helloworld", "cat"]), "helloworld");
  assertEquals(call("trimsuffix", ["helloworld", "world"]), "hello");
  assertEquals(call("trimspace", ["  hello\n\n"]), "hello");
});

Deno.test("startswith endswith strcontains", () => {
  assertEquals(call("startswith", ["hello world", "hello"]), true);
  assertEquals(call("startswith", ["hello world", "world"]), false);
  assertEquals(call("endswith", ["hello world", "world"]), true);
  assertEquals(call("strcontains", ["hello world", "o w"]), true);
  assertEquals(call("strcontains", ["hello world", "x"]), false);
});
