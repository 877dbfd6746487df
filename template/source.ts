/**
 * Reads a template or var-file's text into plain values while remembering
 * where each value sits (JSON path → line/column), so every later issue can
 * point at the offending value. JSON is parsed by a small scanner of our own
 * (exact positions for syntax errors); YAML is in yaml_source.ts.
 */
import { MAX_NESTING } from "./limits.ts";

export { MAX_NESTING } from "./limits.ts";

/** A 1-based line/column position. */
export interface Position {
  line: number;
  column: number;
  /** The file, when a template spans several (HCL). */
  file?: string;
}

/**
 * Something well-formed that Packer still refuses: a key written twice in
 * one object (Packer: "template has duplicate field"), a number no 64-bit
 * float holds (Packer: "cannot unmarshal number ... into Go value of type
 * float64"). The parser reads on and collects them all; the caller decides
 * (a var-file, for one, keeps the last duplicate as Packer does).
 */
export interface SourceProblem {
  kind: "duplicate-key" | "number-out-of-range";
  path: string;
  message: string;
  line: number;
  column: number;
}

/** Parsed text: the value, where each JSON path starts, and what Packer would refuse. */
export interface SourceDoc {
  value: unknown;
  positions: Map<string, Position>;
  problems: SourceProblem[];
}

/** A syntax error at a position (and JSON path, when the parser knows it). */
export class SourceSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly path = "",
  ) {
    super(message);
    this.name = "SourceSyntaxError";
  }
}

/** Sets an own property even for keys like "__proto__" (which plain assignment would swallow). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Position of a JSON path, or of its nearest ancestor the author wrote (a
 * missing option points at the object that lacks it).
 */
export function positionOf(
  positions: Map<string, Position> | undefined,
  path: string,
): Position | undefined {
  if (!positions) return undefined;
  let at = path;
  for (;;) {
    const pos = positions.get(at);
    if (pos || at === "") return pos;
    const parent = at.replace(/(\.[^.[]+|\[[^\]]*\])$/, "");
    if (parent === at) return positions.get("");
    at = parent;
  }
}

/** Appends a key to a JSON path: `a.b`, `a[1]`, `a["odd key"]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (key !== "" && !/[.[\]"\s]/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Line/column of a UTF-16 offset (column counts characters, 1-based). */
export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function describeChar(text: string, i: number): string {
  if (i >= text.length) return "end of input";
  const c = text[i];
  return c === "\n" ? "newline" : `character ${JSON.stringify(c)}`;
}

/** The message for a document nested deeper than MAX_NESTING. */
export const TOO_DEEP = `objects and arrays nest deeper than ${MAX_NESTING} levels ` +
  `(kiln's limit; Packer allows 10000 in JSON)`;

/** At most `max` characters of `text`, with how much was left out. */
export function excerpt(text: string, max = 80): string {
  return text.length <= max
    ? text
    : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** A long JSON path cut after its first segments: `a[0][0][0]…`. */
export function shortPath(path: string, max = 60): string {
  if (path.length <= max) return path;
  const cut = Math.max(path.lastIndexOf("[", max), path.lastIndexOf(".", max));
  return `${path.slice(0, cut > 0 ? cut : max)}…`;
}

/** The message for a duplicate key, pointing at the other value written for it. */
export function duplicateKeyMessage(key: string, other: Position | undefined): string {
  const where = other
    ? ` (another value for it is at line ${other.line}, column ${other.column})`
    : "";
  return `duplicate key ${JSON.stringify(excerpt(key))}${where}: a key may appear only once ` +
    `in an object (Packer: "template has duplicate field: ${excerpt(key)}")`;
}

/** The message for a number no 64-bit float holds. */
export function numberOutOfRangeMessage(text: string): string {
  return `number ${excerpt(text, 40)} is out of range: numbers must fit a 64-bit float ` +
    `(magnitude below 1.8e308), as in Packer`;
}

const JSON_LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/** Parses JSON text, recording the position of every value. */
export function parseJsonSource(text: string): SourceDoc {
  const positions = new Map<string, Position>();
  const problems: SourceProblem[] = [];
  let i = 0;
  // JSON strings cannot hold raw newlines, so whitespace is the only place lines end.
  let line = 1;
  let lineStart = 0;
  const fail = (message: string, at = i, path = ""): never => {
    const p = positionAt(text, at);
    throw new SourceSyntaxError(message, p.line, p.column, path);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        line++;
        lineStart = i + 1;
      }
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const parseString = (): string => {
    const start = i;
    i++;
    for (;;) {
      if (i >= text.length) fail("unterminated string", start);
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c < 32) fail(`invalid ${describeChar(text, i)} in string literal`);
      if (c === 92) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            fail("invalid \\u escape in string literal", i);
          }
          i += 6;
          continue;
        }
        if (!e || !'"\\/bfnrt'.includes(e)) fail("invalid escape in string literal", i);
        i += 2;
        continue;
      }
      i++;
    }
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const parseValue = (path: string, depth = 0): unknown => {
    ws();
    positions.set(path, { line, column: i - lineStart + 1 });
    const c = text[i];
    if ((c === "{" || c === "[") && depth >= MAX_NESTING) fail(TOO_DEEP, i, shortPath(path));
    if (c === "{") {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a quoted object key, found ${describeChar(text, i)}`);
        const keyColumn = i - lineStart + 1;
        const key = parseString();
        const keyPath = childPath(path, key);
        if (Object.hasOwn(obj, key)) {
          problems.push({
            kind: "duplicate-key",
            path: keyPath,
            message: duplicateKeyMessage(key, positions.get(keyPath)),
            line,
            column: keyColumn,
          });
        }
        ws();
        if (text[i] !== ":") fail(`expected ':' after object key, found ${describeChar(text, i)}`);
        i++;
        // The value keeps the last duplicate, as Go's encoding/json does.
        setOwn(obj, key, parseValue(keyPath, depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail(`expected ',' or '}' after object value, found ${describeChar(text, i)}`);
      }
    }
    if (c === "[") {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(childPath(path, arr.length), depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail(`expected ',' or ']' after array element, found ${describeChar(text, i)}`);
      }
    }
    if (c === '"') return parseString();
    JSON_LITERAL.lastIndex = i;
    const m = JSON_LITERAL.exec(text);
    if (!m) fail(`invalid ${describeChar(text, i)} looking for beginning of value`);
    const literal = m![0];
    const column = i - lineStart + 1;
    i += literal.length;
    if (literal === "true") return true;
    if (literal === "false") return false;
    if (literal === "null") return null;
    const n = Number(literal);
    if (!Number.isFinite(n)) {
      problems.push({
        kind: "number-out-of-range",
        path,
        message: numberOutOfRangeMessage(literal),
        line,
        column,
      });
    }
    return n;
  };
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const value = parseValue("");
  ws();
  if (i < text.length) fail(`invalid ${describeChar(text, i)} after top-level value`);
  return { value, positions, problems };
}
