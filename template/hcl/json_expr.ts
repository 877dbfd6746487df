/**
 * JSON values as HCL expressions, per HCL's JSON syntax: numbers, bools and
 * null are literals, arrays are tuples, objects are object constructors, and
 * every string (object keys too) is an HCL template, so `"${var.x}"`
 * evaluates. Template text is parsed by the native-syntax parser, then every
 * range in the result is moved back into the JSON file: a diagnostic about
 * `var.x` points at `var.x` inside the JSON string, escapes accounted for.
 */
import type { Expr, Range } from "./ast.ts";
import { DiagnosticError, error } from "./diagnostic.ts";
import type { JsonDoc, JsonNode } from "./json_tree.ts";
import { parseHclSync } from "./syntax.ts";

/** A JSON value, read as an expression in full expression mode. */
export function jsonExpr(doc: JsonDoc, node: JsonNode): Expr {
  const range = doc.range(node.start, node.end);
  switch (node.kind) {
    case "string":
      return jsonTemplate(doc, node.value, node.start, node.end);
    case "number":
    case "bool":
      return { kind: "literal", value: node.value, range };
    case "null":
      return { kind: "literal", value: null, range };
    case "array":
      return { kind: "tuple", items: node.items.map((n) => jsonExpr(doc, n)), range };
    case "object":
      return {
        kind: "object",
        items: node.members.map((m) => ({
          key: jsonTemplate(doc, m.key, m.keySpan.start, m.keySpan.end),
          value: jsonExpr(doc, m.value),
        })),
        range,
      };
  }
}

/**
 * A JSON value read by static analysis, as HCL does for a variable's `type`
 * or a dynamic block's `iterator`: a string's content is a native-syntax
 * expression (`"list(string)"`), not a template. Other values are as jsonExpr.
 */
export function jsonStaticExpr(doc: JsonDoc, node: JsonNode): Expr {
  if (node.kind !== "string") return jsonExpr(doc, node);
  const prefix = "x = ";
  const parsed = parseEmbedded(doc, node.value, node.start, node.end, prefix, "\n");
  const attr = parsed?.body.attributes[0];
  if (!parsed || parsed.body.attributes.length !== 1 || parsed.body.blocks.length > 0) {
    throw new DiagnosticError([
      error(
        "Invalid expression",
        `${
          JSON.stringify(node.value)
        } is not a valid HCL expression (here a string holds an expression such as "list(string)").`,
        doc.range(node.start, node.end),
      ),
    ]);
  }
  return attr!.expr;
}

/** A JSON string (raw text at `[start, end)` of the file, quotes included) as a template. */
export function jsonTemplate(doc: JsonDoc, value: string, start: number, end: number): Expr {
  const range = doc.range(start, end);
  // Most strings hold no template sequence: no parse needed.
  if (!value.includes("${") && !value.includes("%{")) {
    return { kind: "template", parts: value === "" ? [] : [{ kind: "lit", text: value }], range };
  }
  // A heredoc body takes no backslash escapes, so the decoded text goes in as it is, as HCL
  // parses a JSON string's content as a bare template.
  let id = "KILNJSON";
  while (value.includes(id)) id += "X";
  const parsed = parseEmbedded(doc, value, start, end, `x = <<${id}\n`, `\n${id}\n`);
  const expr = parsed?.body.attributes[0]?.expr;
  if (!expr || expr.kind !== "template") {
    throw new DiagnosticError([
      error(
        "Invalid template",
        `This string is an HCL template and ${
          JSON.stringify(value.length > 60 ? value.slice(0, 60) + "…" : value)
        } is not a valid one: check that every "\${" and "%{" is closed by "}" (write "$\${" or "%%{" for the characters themselves).`,
        range,
      ),
    ]);
  }
  // The heredoc adds the newline before its closing marker.
  const parts = [...expr.parts];
  const last = parts[parts.length - 1];
  if (last?.kind === "lit" && last.text.endsWith("\n")) {
    const text = last.text.slice(0, -1);
    if (text === "") parts.pop();
    else parts[parts.length - 1] = { kind: "lit", text };
  }
  return { kind: "template", parts, range };
}

/**
 * Parses `prefix + value + suffix` as native syntax and moves every range
 * into the JSON string at `[start, end)`. Undefined when it does not parse.
 */
function parseEmbedded(
  doc: JsonDoc,
  value: string,
  start: number,
  end: number,
  prefix: string,
  suffix: string,
) {
  let parsed;
  try {
    parsed = parseHclSync(doc.file, prefix + value + suffix);
  } catch (err) {
    if (err instanceof DiagnosticError) return undefined;
    throw err;
  }
  const offsets = sourceOffsets(doc.text, start, end);
  const move = (o: number) => offsets[Math.max(0, Math.min(o - prefix.length, offsets.length - 1))];
  const fix = (r: Range): Range => doc.range(move(r.start.offset), move(r.end.offset));
  remapRanges(parsed.body, fix);
  return parsed;
}

/**
 * For each UTF-16 unit of the decoded string, the file offset of the raw
 * text it came from (an escape counts as the one unit it decodes to); one
 * more entry for the end: the closing quote.
 */
function sourceOffsets(text: string, start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = start + 1; i < end - 1;) {
    out.push(i);
    i += text[i] !== "\\" ? 1 : text[i + 1] === "u" ? 6 : 2;
  }
  out.push(end - 1);
  return out;
}

function isRange(v: unknown): v is Range {
  return !!v && typeof v === "object" && "file" in v && "start" in v && "end" in v;
}

/** Replaces every `range`/`nameRange` in a freshly parsed tree (which nothing else shares). */
function remapRanges(x: unknown, fix: (r: Range) => Range): void {
  if (Array.isArray(x)) {
    for (const v of x) remapRanges(v, fix);
    return;
  }
  if (!x || typeof x !== "object") return;
  const obj = x as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (isRange(v)) obj[k] = fix(v);
    else remapRanges(v, fix);
  }
}
