/**
 * Evaluates HCL expressions to values. The semantics follow HCL's native
 * syntax specification: automatic string/number/bool conversion for
 * operators, templates that return a lone interpolation's value unchanged,
 * splats that treat a non-list as a one-element list and null as empty,
 * `for` expressions over tuples and objects (keys in lexical order), and
 * `try`/`can`, which need their arguments unevaluated.
 */
import type { Expr, Range, SplatStep, TemplatePart } from "./ast.ts";
import { DiagnosticError, error } from "./diagnostic.ts";
import { convert } from "./types.ts";
import { typeFromExpr } from "./type_expr.ts";
import {
  type FunctionContext,
  type HclFunction,
  isObject,
  type ObjectValue,
  typeName,
  type Value,
  ValueError,
} from "./value.ts";

/** The names an expression can see, and the functions it can call. */
export interface Scope {
  /** A root name (`var`, `local`, `source`, an iteration variable...) or undefined when unknown. */
  lookup(name: string): Value | undefined;
  /** A tailored message for an unknown root name, when the caller knows why it is missing. */
  explainUnknown?(name: string): string | undefined;
  functions: Readonly<Record<string, HclFunction>>;
  /** Set where no function may be called at all (variables files): the message to give. */
  noFunctions?: string;
  /** Functions a caller forbids here, with the reason (e.g. `env` outside variable defaults). */
  forbidden?: Readonly<Record<string, string>>;
  context: FunctionContext;
  /** Told of every value made sensitive by `sensitive()`, so output can mask it. */
  markSensitive?(value: Value): void;
}

/** A scope with extra names (iteration variables) on top of `parent`. */
export function childScope(parent: Scope, names: Record<string, Value>): Scope {
  return {
    ...parent,
    lookup: (n) => Object.hasOwn(names, n) ? names[n] : parent.lookup(n),
  };
}

function fail(summary: string, detail: string, range: Range): never {
  throw new DiagnosticError([error(summary, detail, range)]);
}

/** Evaluates `expr`; throws DiagnosticError (one diagnostic, at the offending span). */
export function evaluate(expr: Expr, scope: Scope): Value {
  switch (expr.kind) {
    case "literal":
      return expr.value;
    case "paren":
      return evaluate(expr.expr, scope);
    case "template":
      return template(expr.parts, scope, expr.range);
    case "var": {
      const v = scope.lookup(expr.name);
      if (v === undefined) {
        fail(
          "Unknown variable",
          scope.explainUnknown?.(expr.name) ?? `There is no variable named "${expr.name}".`,
          expr.range,
        );
      }
      return v;
    }
    case "getattr":
      // HCL marks the `.name` step, not the whole traversal.
      return getAttr(
        evaluate(expr.target, scope),
        expr.name,
        { ...expr.range, start: expr.target.range.end },
        expr.target,
      );
    case "index":
      return index(evaluate(expr.target, scope), evaluate(expr.key, scope), expr.range);
    case "splat":
      return splat(evaluate(expr.target, scope), expr.steps, scope);
    case "call":
      return call(expr, scope);
    case "tuple":
      return expr.items.map((i) => evaluate(i, scope));
    case "object": {
      const out: ObjectValue = {};
      for (const item of expr.items) {
        const key = item.bareKey ?? evaluate(item.key, scope);
        out[asKey(key, item.key.range)] = evaluate(item.value, scope);
      }
      return out;
    }
    case "unary": {
      const v = evaluate(expr.operand, scope);
      if (expr.op === "-") return -toNumber(v, expr.operand.range, "operand");
      return !toBool(v, expr.operand.range, "operand");
    }
    case "binary":
      return binary(expr.op, expr.left, expr.right, scope, expr.range);
    case "conditional": {
      const c = evaluate(expr.cond, scope);
      if (c === null) {
        fail(
          "Null condition",
          "The condition value is null. Conditions must either be true or false.",
          expr.cond.range,
        );
      }
      return toBool(c, expr.cond.range, "condition")
        ? evaluate(expr.then, scope)
        : evaluate(expr.else, scope);
    }
    case "for":
      return forExpr(expr, scope);
  }
}

function asKey(key: Value, range: Range): string {
  if (typeof key === "string") return key;
  if (typeof key === "number" || typeof key === "boolean") return String(key);
  return fail(
    "Incorrect key type",
    `Can't use this value as a key: ${typeName(key)} given, string required.`,
    range,
  );
}

function getAttr(target: Value, name: string, range: Range, of: Expr): Value {
  if (target === null) {
    fail(
      "Attempt to get attribute from null value",
      `This value is null, so it does not have any attributes.`,
      range,
    );
  }
  if (isObject(target)) {
    if (Object.hasOwn(target, name)) return target[name];
    const what = of.kind === "var" && of.name === "local"
      ? `There is no local value named "${name}".`
      : `This object does not have an attribute named "${name}".`;
    fail("Unsupported attribute", what + nearest(name, Object.keys(target)), range);
  }
  if (Array.isArray(target) && /^\d+$/.test(name)) return index(target, Number(name), range);
  return fail(
    "Unsupported attribute",
    `Can't access attributes on a ${typeName(target)}${
      of.kind === "var" ? ` (${of.name})` : ""
    }: ` +
      (Array.isArray(target)
        ? "use an index ([0]) or a splat ([*]) to reach the elements."
        : "it is not an object."),
    range,
  );
}

/** " Did you mean ...?" when a name is one edit or so away from a known one. */
export function nearest(name: string, known: string[]): string {
  let best: string | undefined;
  let bestScore = 3;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestScore) [best, bestScore] = [k, d];
  }
  return best === undefined ? "" : ` Did you mean "${best}"?`;
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

function index(target: Value, key: Value, range: Range): Value {
  if (target === null) {
    fail(
      "Attempt to index null value",
      "This value is null, so it does not have any indices.",
      range,
    );
  }
  if (Array.isArray(target)) {
    const n = typeof key === "string" && /^-?\d+$/.test(key) ? Number(key) : key;
    if (typeof n !== "number" || !Number.isInteger(n)) {
      fail(
        "Invalid index",
        `The given key does not identify an element in this collection value: a whole number is required, got ${
          typeName(key)
        }.`,
        range,
      );
    }
    if (n < 0 || n >= target.length) {
      fail(
        "Invalid index",
        `The given key does not identify an element in this collection value: the collection has ${target.length} elements, index ${n} is out of range.`,
        range,
      );
    }
    return target[n];
  }
  if (isObject(target)) {
    const k = asKey(key, range);
    if (!Object.hasOwn(target, k)) {
      fail(
        "Invalid index",
        `The given key does not identify an element in this collection value: there is no "${k}".`,
        range,
      );
    }
    return target[k];
  }
  return fail(
    "Invalid index",
    `This value does not have any indices: it is a ${typeName(target)}.`,
    range,
  );
}

function splat(target: Value, steps: SplatStep[], scope: Scope): Value {
  if (target === null) return [];
  const items = Array.isArray(target)
    ? target
    : isObject(target) && steps.length === 0
    ? [target]
    : [target];
  return items.map((item) => {
    let v = item;
    for (const s of steps) {
      v = "attr" in s
        ? getAttr(v, s.attr, s.range, { kind: "literal", value: null, range: s.range })
        : index(v, evaluate(s.index, scope), s.range);
    }
    return v;
  });
}

function call(expr: Extract<Expr, { kind: "call" }>, scope: Scope): Value {
  const name = expr.name;
  if (name === "try") {
    if (expr.args.length === 0) {
      fail("Invalid function argument", "try requires at least one argument.", expr.range);
    }
    const errors: string[] = [];
    for (const a of expr.args) {
      try {
        return evaluate(a, scope);
      } catch (err) {
        if (!(err instanceof DiagnosticError)) throw err;
        errors.push(err.diagnostics[0]?.detail ?? err.message);
      }
    }
    return fail(
      "Error in function call",
      `Call to function "try" failed: no expression succeeded:\n- ${
        errors.join("\n- ")
      }\n\nAt least one expression must produce a successful result.`,
      expr.range,
    );
  }
  if (name === "can") {
    if (expr.args.length !== 1) {
      fail("Invalid function argument", "can requires exactly one argument.", expr.range);
    }
    try {
      evaluate(expr.args[0], scope);
      return true;
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      return false;
    }
  }
  if (scope.noFunctions) fail("Function calls not allowed", scope.noFunctions, expr.range);
  if (name === "convert" && expr.args.length === 2 && !expr.expandFinal) {
    // The second argument is a type, written as a type expression, not a value.
    const value = evaluate(expr.args[0], scope);
    const type = typeFromExpr(expr.args[1]);
    try {
      return convert(value, type);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      fail(
        "Invalid function argument",
        `Invalid value for "value" parameter: ${err.message}.`,
        expr.args[0].range,
      );
    }
  }
  const forbidden = scope.forbidden?.[name];
  if (forbidden) fail("Function not available here", forbidden, expr.range);
  let args = expr.args.map((a) => evaluate(a, scope));
  if (expr.expandFinal) {
    const last = args[args.length - 1];
    if (!Array.isArray(last)) {
      fail(
        "Invalid expanding argument value",
        "The expanding argument (indicated by ...) must be of a tuple, list, or set type.",
        expr.args[expr.args.length - 1].range,
      );
    }
    args = [...args.slice(0, -1), ...last];
  }
  if (name === "sensitive") {
    if (args.length !== 1) {
      fail("Invalid function argument", "sensitive requires exactly one argument.", expr.range);
    }
    scope.markSensitive?.(args[0]);
    return args[0];
  }
  if (name === "nonsensitive") {
    if (args.length !== 1) {
      fail("Invalid function argument", "nonsensitive requires exactly one argument.", expr.range);
    }
    return args[0];
  }
  const fn = Object.hasOwn(scope.functions, name) ? scope.functions[name] : undefined;
  if (!fn) {
    fail(
      "Call to unknown function",
      `There is no function named "${name}".${nearest(name, Object.keys(scope.functions))}`,
      expr.range,
    );
  }
  const min = fn.params.length;
  if (args.length < min || (!fn.variadic && args.length > min)) {
    const want = fn.variadic ? `at least ${min}` : `${min}`;
    const which = args.length < min
      ? `Function "${name}" expects ${want} argument(s). Missing value for "${
        fn.params[args.length]
      }".`
      : `Function "${name}" expects only ${min} argument(s).`;
    fail(
      args.length < min ? "Not enough function arguments" : "Too many function arguments",
      which,
      expr.range,
    );
  }
  try {
    return fn.call(args, scope.context);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    const at = err.argument !== undefined && !expr.expandFinal
      ? expr.args[err.argument]?.range
      : undefined;
    const param = err.argument !== undefined ? (fn.params[err.argument] ?? fn.variadic) : undefined;
    return fail(
      at ? "Invalid function argument" : "Error in function call",
      at
        ? err.message.startsWith("Invalid value for ")
          ? `${err.message}.`
          : `Invalid value for "${param}" parameter: ${err.message}.`
        : `Call to function "${name}" failed: ${err.message}.`,
      at ?? expr.range,
    );
  }
}

function binary(op: string, l: Expr, r: Expr, scope: Scope, range: Range): Value {
  if (op === "&&" || op === "||") {
    const left = toBool(evaluate(l, scope), l.range, "left operand");
    const right = toBool(evaluate(r, scope), r.range, "right operand");
    return op === "&&" ? left && right : left || right;
  }
  const a = evaluate(l, scope);
  const b = evaluate(r, scope);
  if (op === "==") return equal(a, b);
  if (op === "!=") return !equal(a, b);
  const x = toNumber(a, l.range, "left operand");
  const y = toNumber(b, r.range, "right operand");
  switch (op) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "/":
      // HCL's numbers are big floats: a division by zero is an infinity, as Packer prints it.
      return x / y;
    case "%":
      if (y === 0) {
        fail(
          "Operation failed",
          "Error during operation: can't use zero as divisor in modulo operation.",
          range,
        );
      }
      return x % y;
    case "<":
      return x < y;
    case ">":
      return x > y;
    case "<=":
      return x <= y;
    case ">=":
      return x >= y;
  }
  return fail("Unsupported operator", `kiln does not know the operator ${op}.`, range);
}

/** HCL equality: same type and same value, deeply. */
export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length &&
      ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

function toNumber(v: Value, range: Range, what: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return fail(
    "Invalid operand",
    `Unsuitable value for ${what}: a number is required${
      v === null ? " (the value is null)" : `, got ${typeName(v)}`
    }.`,
    range,
  );
}

function toBool(v: Value, range: Range, what: string): boolean {
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "false") return v === "true";
  return fail(
    "Invalid operand",
    `Unsuitable value for ${what}: a bool is required${
      v === null ? " (the value is null)" : `, got ${typeName(v)}`
    }.`,
    range,
  );
}

function forExpr(e: Extract<Expr, { kind: "for" }>, scope: Scope): Value {
  const coll = evaluate(e.collection, scope);
  if (coll === null) {
    fail(
      "Iteration over null value",
      "A null value cannot be used as the collection in a 'for' expression.",
      e.collection.range,
    );
  }
  let entries: [Value, Value][];
  if (Array.isArray(coll)) entries = coll.map((v, i) => [i, v]);
  else if (isObject(coll)) entries = Object.keys(coll).sort().map((k) => [k, coll[k]]);
  else {return fail(
      "Iteration over non-iterable value",
      `A value of type ${typeName(coll)} cannot be used as the collection in a 'for' expression.`,
      e.collection.range,
    );}
  const tuple: Value[] = [];
  const object: ObjectValue = {};
  const grouped: Record<string, Value[]> = {};
  for (const [k, v] of entries) {
    const names: Record<string, Value> = { [e.valueVar]: v };
    if (e.keyVar) names[e.keyVar] = k;
    const inner = childScope(scope, names);
    if (e.cond) {
      const c = evaluate(e.cond, inner);
      if (!toBool(c, e.cond.range, "condition")) continue;
    }
    if (!e.object) {
      tuple.push(evaluate(e.valueExpr, inner));
      continue;
    }
    const key = asKey(evaluate(e.keyExpr!, inner), e.keyExpr!.range);
    const value = evaluate(e.valueExpr, inner);
    if (e.group) (grouped[key] ??= []).push(value);
    else {
      if (Object.hasOwn(object, key)) {
        fail(
          "Duplicate object key",
          `Two different items produced the key "${key}" in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.`,
          e.keyExpr!.range,
        );
      }
      object[key] = value;
    }
  }
  if (!e.object) return tuple;
  return e.group ? grouped : object;
}

function template(parts: TemplatePart[], scope: Scope, range: Range): Value {
  // A template that is one interpolation yields the value itself, not its string form.
  if (parts.length === 1 && parts[0].kind === "interp") return evaluate(parts[0].expr, scope);
  return render(parts, scope, range);
}

function render(parts: TemplatePart[], scope: Scope, range: Range): string {
  let out = "";
  for (const p of parts) {
    switch (p.kind) {
      case "lit":
        out += p.text;
        break;
      case "interp":
        out += stringify(evaluate(p.expr, scope), p.expr.range);
        break;
      case "if": {
        const c = evaluate(p.cond, scope);
        out += render(toBool(c, p.cond.range, "condition") ? p.then : p.else, scope, range);
        break;
      }
      case "for": {
        const coll = evaluate(p.collection, scope);
        const entries: [Value, Value][] = Array.isArray(coll)
          ? coll.map((v, i) => [i, v])
          : isObject(coll)
          ? Object.keys(coll).sort().map((k) => [k, coll[k]])
          : fail(
            "Iteration over non-iterable value",
            `A value of type ${
              typeName(coll)
            } cannot be used as the collection in a 'for' directive.`,
            p.collection.range,
          );
        for (const [k, v] of entries) {
          const names: Record<string, Value> = { [p.valueVar]: v };
          if (p.keyVar) names[p.keyVar] = k;
          out += render(p.body, childScope(scope, names), range);
        }
        break;
      }
    }
  }
  return out;
}

/** A value as a template interpolation writes it. */
export function stringify(v: Value, range: Range): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return String(v);
  if (v === null) {
    return fail(
      "Invalid template interpolation value",
      "The expression result is null. Cannot include a null value in a string template.",
      range,
    );
  }
  return fail(
    "Invalid template interpolation value",
    `Cannot include the given value in a string template: string required, got ${typeName(v)}.`,
    range,
  );
}

/** Numbers as HCL writes them: integers without a fraction, no exponent for ordinary sizes. */
export function formatNumber(n: number): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  return String(n);
}
