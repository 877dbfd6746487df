/**
 * Reads a variable's `type = ...` constraint, which is written as an
 * expression (`list(string)`, `object({ a = number })`) but never evaluated.
 */
import type { Expr } from "./ast.ts";
import { DiagnosticError, error } from "./diagnostic.ts";
import type { Type } from "./types.ts";

const PRIMITIVES = new Set(["string", "number", "bool", "any"]);

function bad(expr: Expr, detail: string): never {
  throw new DiagnosticError([error("Invalid type specification", detail, expr.range)]);
}

/** The Type an expression spells; throws DiagnosticError for anything else. */
export function typeFromExpr(expr: Expr): Type {
  if (expr.kind === "paren") return typeFromExpr(expr.expr);
  if (expr.kind === "var") {
    if (PRIMITIVES.has(expr.name)) return expr.name as Type;
    if (["list", "map", "set"].includes(expr.name)) {
      bad(
        expr,
        `The ${expr.name} type constructor requires one argument specifying the element type.`,
      );
    }
    bad(expr, `The keyword "${expr.name}" is not a valid type specification.`);
  }
  if (expr.kind === "literal" && typeof expr.value === "string" && PRIMITIVES.has(expr.value)) {
    // Legacy quoted types ("string") are still accepted by HCL with a deprecation.
    return expr.value as Type;
  }
  if (expr.kind !== "call") {
    bad(
      expr,
      "A type specification is a keyword (string, number, bool, any) or a type constructor such as list(string).",
    );
  }
  const arg = expr.args[0];
  if (expr.args.length !== 1) {
    bad(expr, `The ${expr.name} type constructor requires exactly one argument.`);
  }
  switch (expr.name) {
    case "list":
      return { list: typeFromExpr(arg) };
    case "set":
      return { set: typeFromExpr(arg) };
    case "map":
      return { map: typeFromExpr(arg) };
    case "tuple":
      if (arg.kind !== "tuple") {
        bad(arg, "The tuple type constructor requires a list of element types.");
      }
      return { tuple: arg.items.map(typeFromExpr) };
    case "object": {
      if (arg.kind !== "object") {
        bad(arg, "The object type constructor requires an object of attribute types.");
      }
      const object: Record<string, Type> = {};
      const optional: string[] = [];
      for (const item of arg.items) {
        const key = item.bareKey ??
          (item.key.kind === "literal" && typeof item.key.value === "string"
            ? item.key.value
            : undefined) ??
          (item.key.kind === "template" && item.key.parts.length === 1 &&
              item.key.parts[0].kind === "lit"
            ? item.key.parts[0].text
            : undefined);
        if (key === undefined) bad(item.key, "Object attribute names in a type are plain names.");
        let v = item.value;
        if (v.kind === "call" && v.name === "optional" && v.args.length >= 1) {
          optional.push(key);
          v = v.args[0];
        }
        object[key] = typeFromExpr(v);
      }
      return optional.length > 0 ? { object, optional } : { object };
    }
  }
  return bad(expr, `Keyword "${expr.name}" is not a valid type constructor.`);
}
