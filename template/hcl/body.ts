/**
 * Turns a component's body (a source, provisioner, post-processor or data
 * block) into the plain options object its schema decodes, as Packer's HCL
 * specs do: attributes become values, nested blocks become objects, and a
 * block type the schema lists as repeatable (or that is repeated) becomes a
 * list of objects. `dynamic` blocks are expanded first.
 */
import type { Block, Body, Range } from "./ast.ts";
import { type Diagnostic, DiagnosticError, error } from "./diagnostic.ts";
import { childScope, evaluate, type Scope } from "./eval.ts";
import { isObject, type ObjectValue, type Value } from "./value.ts";

/** How a nested option is shaped, from the component's schema. */
export type NestedShape = (key: string) => "list" | "object" | undefined;

/** Where each option of the result was written: `key`, `key[0]`, `key.sub` → range. */
export type RangeMap = Map<string, Range>;

/**
 * Evaluates `body` in `scope`. Every problem of the body is collected and
 * thrown together. `skip` names attributes the caller reads itself (`only`,
 * `pause_before`, ...).
 */
export function evalBody(
  body: Body,
  scope: Scope,
  shape: NestedShape,
  ranges: RangeMap,
  prefix = "",
  skip: ReadonlySet<string> = new Set(),
): ObjectValue {
  const out: ObjectValue = {};
  const problems: Diagnostic[] = [];
  const seen = new Map<string, Range>();
  for (const attr of body.attributes) {
    if (skip.has(attr.name)) continue;
    const before = seen.get(attr.name);
    if (before) {
      problems.push(error(
        "Attribute redefined",
        `The argument "${attr.name}" was already set at ${before.file}:${before.start.line}. Each argument may be set only once.`,
        attr.nameRange,
      ));
      continue;
    }
    seen.set(attr.name, attr.nameRange);
    try {
      out[attr.name] = evaluate(attr.expr, scope);
      ranges.set(prefix + attr.name, attr.expr.range);
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      problems.push(...err.diagnostics);
    }
  }
  const blocks: { block: Block; scope: Scope }[] = [];
  for (const block of body.blocks) {
    if (block.type !== "dynamic") {
      blocks.push({ block, scope });
      continue;
    }
    try {
      blocks.push(...expandDynamic(block, scope));
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      problems.push(...err.diagnostics);
    }
  }
  const counts = new Map<string, number>();
  for (const { block } of blocks) counts.set(block.type, (counts.get(block.type) ?? 0) + 1);
  for (const { block, scope: s } of blocks) {
    const key = block.type;
    if (seen.has(key) && !Array.isArray(out[key])) {
      problems.push(error(
        "Unsupported block type",
        `"${key}" is set as an argument above; write it either as an argument or as blocks, not both.`,
        block.typeRange,
      ));
      continue;
    }
    if (block.labels.length > 0) {
      problems.push(error(
        "Extraneous label",
        `A "${key}" block takes no labels here.`,
        block.labelRanges[0],
      ));
      continue;
    }
    const asList = shape(key) === "list" || (shape(key) !== "object" && (counts.get(key) ?? 0) > 1);
    const list = asList ? (out[key] ??= []) as Value[] : undefined;
    if (!asList && Object.hasOwn(out, key)) {
      problems.push(
        error("Duplicate block", `Only one "${key}" block is allowed here.`, block.typeRange),
      );
      continue;
    }
    const at = list ? `${prefix}${key}[${list.length}]` : prefix + key;
    ranges.set(at, block.range);
    try {
      const value = evalBody(block.body, s, () => undefined, ranges, at + ".");
      if (list) list.push(value);
      else out[key] = value;
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      problems.push(...err.diagnostics);
    }
  }
  if (problems.length > 0) throw new DiagnosticError(problems);
  return out;
}

/** Expands `dynamic "x" { for_each = ...; iterator = it; content { ... } }` → one `x` block per element. */
export function expandDynamic(block: Block, scope: Scope): { block: Block; scope: Scope }[] {
  const label = block.labels[0];
  if (block.labels.length !== 1) {
    throw new DiagnosticError([
      error(
        "Invalid dynamic block",
        "A dynamic block takes one label: the type of the blocks it generates.",
        block.typeRange,
      ),
    ]);
  }
  const attr = (name: string) => block.body.attributes.find((a) => a.name === name);
  const forEach = attr("for_each");
  if (!forEach) {
    throw new DiagnosticError([
      error(
        "Missing required argument",
        `The argument "for_each" is required in a dynamic block.`,
        block.range,
      ),
    ]);
  }
  const iteratorAttr = attr("iterator");
  const iterator = iteratorAttr?.expr.kind === "var" ? iteratorAttr.expr.name : label;
  const content = block.body.blocks.filter((b) => b.type === "content");
  if (content.length !== 1) {
    throw new DiagnosticError([
      error(
        "Invalid dynamic block",
        `A dynamic block needs exactly one "content" block.`,
        block.range,
      ),
    ]);
  }
  const coll = evaluate(forEach.expr, scope);
  const entries: [Value, Value][] = Array.isArray(coll)
    ? coll.map((v, i) => [i, v])
    : isObject(coll)
    ? Object.keys(coll).sort().map((k) => [k, coll[k]])
    : coll === null
    ? []
    : (() => {
      throw new DiagnosticError([
        error(
          "Invalid dynamic for_each value",
          "Cannot use a " + typeof coll + " value in for_each. An iterable collection is required.",
          forEach.expr.range,
        ),
      ]);
    })();
  const labelsAttr = attr("labels");
  return entries.map(([key, value]) => {
    const inner = childScope(scope, { [iterator]: { key, value } });
    let labels: string[] = [];
    if (labelsAttr) {
      const v = evaluate(labelsAttr.expr, inner);
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
        throw new DiagnosticError([
          error(
            "Invalid dynamic block labels",
            "labels is a list of strings.",
            labelsAttr.expr.range,
          ),
        ]);
      }
      labels = v as string[];
    }
    return {
      block: {
        ...block,
        type: label,
        labels,
        labelRanges: labels.map(() => block.labelRanges[0]),
        body: content[0].body,
      },
      scope: inner,
    };
  });
}
