import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { call, callError } from "./call.ts";

Deno.test("regex: result shape follows the capture groups", () => {
  assertEquals(call("regex", ["[a-z]+", "53453453.345345aaabbbccc23454"]), "aaabbbccc");
  assertEquals(call("regex", ["(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01"]), [
    "2019",
    "02",
    "01",
  ]);
  assertEquals(
    call("regex", [
      "^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?",
      "https://terraform.io/docs/",
    ]),
    { scheme: "https", authority: "terraform.io" },
  );
  assertEquals(call("regex", ["(a)|(b)", "b"]), [null, "b"]);
  assertEquals(
    callError("regex", ["[a-z]+", "12345"]).message,
    "pattern did not match any part of the given string",
  );
});

Deno.test("regex: RE2 syntax runs with RE2's meaning", () => {
  assertEquals(call("regex", ["(?i)HELLO", "say hello"]), "hello");
  assertEquals(call("regex", ["(?s)a.b", "a\nb"]), "a\nb");
  // RE2's "." matches a carriage return; JavaScript's would not.
  assertEquals(call("regex", ["a.b", "a\rb"]), "a\rb");
  assertEquals(call("regex", ["[[:digit:]]+", "ab123"]), "123");
  assertEquals(call("regex", ["\\pL+", "123héllo"]), "héllo");
  assertEquals(call("regex", ["\\Qa.b\\E", "xa.b"]), "a.b");
  assertEquals(call("regex", ["x{", "x{"]), "x{");
  // RE2's \s is not Unicode-wide: no vertical tab.
  assertEquals(callError("regex", ["^\\s+$", "\u000b"]).argument, 1);
});

Deno.test("regex: what RE2 refuses is refused with the reason", () => {
  assertMatch(
    callError("regex", ["(?=a)", "a"]).message,
    /lookahead and lookbehind are not supported/,
  );
  assertMatch(callError("regex", ["(a)\\1", "aa"]).message, /backreferences/);
  assertMatch(callError("regex", ["(?U)a+", "aa"]).message, /ungreedy/);
  const bad = callError("regex", ["(", "a"]);
  assertEquals(bad.argument, 0);
  assertMatch(bad.message, /^invalid regular expression pattern "\(":/);
  assertMatch(
    callError("regex", ["(?P<x>a)(b)", "ab"]).message,
    /cannot mix both named and unnamed/,
  );
});

Deno.test("regexall: every match, Go's rule for empty matches", () => {
  assertEquals(call("regexall", ["[a-z]+", "1234abcd5678efgh9"]), ["abcd", "efgh"]);
  assertEquals(call("regexall", ["[a-z]+", "123456789"]), []);
  assertEquals(call("regexall", ["a*", "baaac"]), ["", "aaa", ""]);
  assertEquals(call("regexall", ["(\\w)(\\d)?", "a1b"]), [["a", "1"], ["b", null]]);
});

Deno.test("regex_replace and replace's /re/ form expand Go templates", () => {
  assertEquals(call("regex_replace", ["baaac", "a*", "X"]), "XbXcX");
  assertEquals(call("regex_replace", ["hello world", "(\\w+) (\\w+)", "$2 $1"]), "world hello");
  // "$1x" names a group "1x", which does not exist; ${1} does.
  assertEquals(call("regex_replace", ["abc", "(b)", "[$1x${1}x$$]"]), "a[bx$]c");
  assertEquals(call("regex_replace", ["abc", "(?P<n>b)", "<$n>"]), "a<b>c");
  assertEquals(call("replace", ["1 + 2 + 3", "+", "-"]), "1 - 2 - 3");
  assertEquals(call("replace", ["hello world", "/w.*d/", "everybody"]), "hello everybody");
  assertEquals(call("replace", ["a/b/c", "/", "-"]), "a-b-c");
  assertEquals(call("replace", ["abc", "/(b)/", "[$1]"]), "a[b]c");
});
