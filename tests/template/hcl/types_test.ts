import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { convert, numberToString, typeString } from "../../../template/hcl/types.ts";
import { ValueError } from "../../../template/hcl/value.ts";

const fails = (f: () => unknown, message: string) =>
  assertThrows(f, (e: unknown) => e instanceof ValueError && e.message === message);

Deno.test("typeString prints types as HCL does", () => {
  assertEquals(typeString({ list: "string" }), "list(string)");
  assertEquals(typeString({ map: { set: "number" } }), "map(set(number))");
  assertEquals(typeString({ object: { b: "number", a: "string" } }), "object({a=string,b=number})");
  assertEquals(
    typeString({ object: { a: "string" }, optional: ["a"] }),
    "object({a=optional(string)})",
  );
  assertEquals(typeString({ tuple: ["string", "bool"] }), "tuple([string,bool])");
  assertEquals(typeString("any"), "any");
});

Deno.test("primitive conversions follow cty's safe rules", () => {
  assertEquals(convert("12.5", "number"), 12.5);
  assertEquals(convert(5, "string"), "5");
  assertEquals(convert(true, "string"), "true");
  assertEquals(convert("true", "bool"), true);
  assertEquals(convert("0", "bool"), false);
  assertEquals(convert(1e21, "string"), "1000000000000000000000");
  assertEquals(convert(1e-7, "string"), "0.0000001");
  fails(() => convert("abc", "number"), "a number is required");
  fails(() => convert("yes", "bool"), "a bool is required");
  fails(
    () => convert("True", "bool"),
    'a bool is required; to convert from string, use lowercase "true"',
  );
  fails(() => convert(1, "bool"), "bool required");
  fails(() => convert([1], "string"), "string required");
});

Deno.test("null passes through every type", () => {
  assertEquals(convert(null, "number"), null);
  assertEquals(convert(null, { list: "string" }), null);
  assertEquals(convert([null, "a"], { list: "string" }), [null, "a"]);
});

Deno.test("collections convert element by element and name the failing element", () => {
  assertEquals(convert([1, "2"], { list: "number" }), [1, 2]);
  fails(() => convert(["a", [2]], { list: "string" }), "element 1: string required");
  fails(() => convert("a", { list: "string" }), "list of string required");
  assertEquals(convert({ a: 1 }, { map: "string" }), { a: "1" });
  fails(() => convert([1], { map: "string" }), "map of string required");
  assertEquals(convert(["b", "a", "b"], { set: "string" }), ["a", "b"]);
  assertEquals(convert([10, 9, 10], { set: "number" }), [9, 10]);
  assertEquals(convert([1, "x"], { tuple: ["string", "string"] }), ["1", "x"]);
  fails(() => convert([1], { tuple: ["string", "string"] }), "tuple required with 2 elements");
});

Deno.test("collections of any unify their elements", () => {
  assertEquals(convert([1, "a", true], { list: "any" }), ["1", "a", "true"]);
  assertEquals(convert({ a: 1, b: "x" }, { map: "any" }), { a: "1", b: "x" });
  assertEquals(convert([{ a: 1 }, { a: "x" }], { list: "any" }), [{ a: "1" }, { a: "x" }]);
  fails(() => convert([1, true], { list: "any" }), "all elements must have the same type");
});

Deno.test("objects: missing attributes are errors unless optional, extra ones are dropped", () => {
  const t = { object: { a: "string", b: "number" }, optional: ["b"] } as const;
  assertEquals(convert({ a: 1, c: "dropped" }, t), { a: "1", b: null });
  fails(() => convert({ b: 1 }, t), 'attribute "a" is required');
  fails(() => convert({ a: "x", b: "y" }, t), 'attribute "b": a number is required');
  fails(() => convert("x", t), "object required");
  fails(
    () => convert([{ a: "x" }, { b: 1 }], { list: t }),
    'element 1: attribute "a" is required',
  );
});

Deno.test("numberToString writes plain decimals", () => {
  assertEquals(numberToString(-0), "0");
  assertEquals(numberToString(0.1), "0.1");
  assertEquals(numberToString(-1.5e-10), "-0.00000000015");
  assertEquals(numberToString(123456789012), "123456789012");
});
