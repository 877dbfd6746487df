/**
 * A JSON document as a tree that keeps what HCL's JSON syntax needs and a
 * plain JSON value loses: the order of an object's properties, every
 * duplicate of a property name (repeated blocks), and where each key and
 * value sits in the file. Syntax is checked by kiln's own JSON scanner
 * (`parseJsonSource`), so a broken `.pkr.json` gets the same line:column
 * messages as a broken JSON template; the tree is then read from text
 * already known to be valid.
 */
import type { Pos, Range } from "./ast.ts";
import { type Diagnostic, DiagnosticError, error } from "./diagnostic.ts";
import type { ObjectValue, Value } from "./value.ts";
import { parseJsonSource, SourceSyntaxError } from "../source.ts";

/** Offsets are 0-based UTF-16 indexes into the file: `start` inclusive, `end` exclusive. */
interface Span {
  start: number;
  end: number;
}

/** One property of an object, in file order. */
export interface JsonMember {
  key: string;
  /** Span of the key, quotes included. */
  keySpan: Span;
  value: JsonNode;
}

/** A JSON value with its span; strings keep their raw text's span for escape-aware positions. */
export type JsonNode =
  | ({ kind: "object"; members: JsonMember[] } & Span)
  | ({ kind: "array"; items: JsonNode[] } & Span)
  | ({ kind: "string"; value: string } & Span)
  | ({ kind: "number"; value: number } & Span)
  | ({ kind: "bool"; value: boolean } & Span)
  | ({ kind: "null" } & Span);

/** A parsed JSON file: its tree and a way to turn offsets into ranges. */
export interface JsonDoc {
  file: string;
  text: string;
  root: JsonNode;
  /** Range of `[start, end)` in this file. */
  range(start: number, end: number): Range;
}

/** Offset → 1-based line/column (UTF-16 columns, as kiln's other positions). */
export function positionsOf(text: string): (offset: number) => Pos {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo] + 1, offset };
  };
}

/** Parses `text` (the file `file`); a syntax error is a DiagnosticError at its line and column. */
export function parseJsonTree(file: string, text: string): JsonDoc {
  const pos = positionsOf(text);
  const range = (start: number, end: number): Range => ({
    file,
    start: pos(start),
    end: pos(end),
  });
  let problems: Diagnostic[] = [];
  try {
    const doc = parseJsonSource(text);
    problems = doc.problems.filter((p) => p.kind === "number-out-of-range").map((p) => {
      const at = lineColumnOffset(text, p.line, p.column);
      return error("Invalid JSON number", p.message, range(at, at + 1));
    });
  } catch (err) {
    if (!(err instanceof SourceSyntaxError)) throw err;
    const at = lineColumnOffset(text, err.line, err.column);
    throw new DiagnosticError([
      error("Invalid JSON", `${err.message}.`, range(at, at + 1)),
    ]);
  }
  if (problems.length > 0) throw new DiagnosticError(problems);
  return { file, text, root: readTree(text), range };
}

function lineColumnOffset(text: string, line: number, column: number): number {
  let at = 0;
  for (let l = 1; l < line; l++) at = text.indexOf("\n", at) + 1;
  return Math.min(at + column - 1, text.length);
}

const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/** Reads text that parseJsonSource accepted, so it checks nothing. */
function readTree(text: string): JsonNode {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const str = (): { value: string } & Span => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return { value: JSON.parse(text.slice(start, i)), start, end: i };
  };
  const value = (): JsonNode => {
    ws();
    const start = i;
    const c = text[i];
    if (c === "{") {
      i++;
      const members: JsonMember[] = [];
      for (ws(); text[i] !== "}"; ws()) {
        if (text[i] === ",") i++, ws();
        const k = str();
        ws();
        i++; // ':'
        members.push({ key: k.value, keySpan: { start: k.start, end: k.end }, value: value() });
      }
      i++;
      return { kind: "object", members, start, end: i };
    }
    if (c === "[") {
      i++;
      const items: JsonNode[] = [];
      for (ws(); text[i] !== "]"; ws()) {
        if (text[i] === ",") i++;
        items.push(value());
      }
      i++;
      return { kind: "array", items, start, end: i };
    }
    if (c === '"') return { kind: "string", ...str() };
    LITERAL.lastIndex = i;
    const lit = LITERAL.exec(text)![0];
    i += lit.length;
    if (lit === "null") return { kind: "null", start, end: i };
    if (lit === "true" || lit === "false") {
      return { kind: "bool", value: lit === "true", start, end: i };
    }
    return { kind: "number", value: Number(lit), start, end: i };
  };
  return value();
}

/** A node's plain value (strings literal); a repeated key keeps its last value, as JSON does. */
export function jsonValue(node: JsonNode): Value {
  switch (node.kind) {
    case "object": {
      const out: ObjectValue = {};
      for (const m of node.members) {
        Object.defineProperty(out, m.key, {
          value: jsonValue(m.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    case "array":
      return node.items.map(jsonValue);
    case "null":
      return null;
    default:
      return node.value;
  }
}
