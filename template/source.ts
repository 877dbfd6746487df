/**
 * Reads a template or var-file's text into plain values while remembering
 * where each value sits (JSON path → line/column), so every later issue can
 * point at the offending value. JSON is parsed by a small scanner of our own
 * (exact positions for syntax errors); YAML goes through npm `yaml`, loaded
 * only when a YAML file is read.
 */

/** A 1-based line/column position. */
export interface Position {
  line: number;
  column: number;
}

/** Parsed text: the value and where each JSON path starts. */
export interface SourceDoc {
  value: unknown;
  positions: Map<string, Position>;
}

/** A syntax error at a position. */
export class SourceSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
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

/**
 * How deep objects and arrays may nest. Real templates nest a handful of
 * levels; the limit turns a hostile file into a clear error instead of a
 * stack overflow in the parser or in anything that walks the document.
 */
export const MAX_NESTING = 1000;

const TOO_DEEP = `objects and arrays nest deeper than ${MAX_NESTING} levels`;

/** Parses JSON text, recording the position of every value. */
export function parseJsonSource(text: string): SourceDoc {
  const positions = new Map<string, Position>();
  let i = 0;
  // JSON strings cannot hold raw newlines, so whitespace is the only place lines end.
  let line = 1;
  let lineStart = 0;
  const fail = (message: string, at = i): never => {
    const p = positionAt(text, at);
    throw new SourceSyntaxError(message, p.line, p.column);
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
    if ((c === "{" || c === "[") && depth >= MAX_NESTING) fail(TOO_DEEP);
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
        const key = parseString();
        ws();
        if (text[i] !== ":") fail(`expected ':' after object key, found ${describeChar(text, i)}`);
        i++;
        const value = parseValue(childPath(path, key), depth + 1);
        // Go's encoding/json keeps the last duplicate; so do we.
        setOwn(obj, key, value);
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
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(
      text.slice(i, i + 400),
    );
    if (!m) fail(`invalid ${describeChar(text, i)} looking for beginning of value`);
    i += m![0].length;
    if (m![0] === "true") return true;
    if (m![0] === "false") return false;
    if (m![0] === "null") return null;
    return Number(m![0]);
  };
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const value = parseValue("");
  ws();
  if (i < text.length) fail(`invalid ${describeChar(text, i)} after top-level value`);
  return { value, positions };
}

/** Parses YAML text (npm `yaml`, imported on demand), recording value positions. */
export async function parseYamlSource(text: string): Promise<SourceDoc> {
  const YAML = await import("yaml");
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const p = lineCounter.linePos(err.pos[0]);
    // The yaml package reports its own stack overflow as a parse error.
    const message = /Maximum call stack/.test(err.message)
      ? "objects and arrays nest too deeply for the YAML parser"
      : err.message;
    throw new SourceSyntaxError(message.split("\n")[0], p.line, p.col);
  }
  const positions = new Map<string, Position>();
  const walk = (node: unknown, path: string, depth: number) => {
    if (!node || typeof node !== "object") return;
    if (depth > MAX_NESTING) {
      const p = lineCounter.linePos((node as { range?: number[] }).range?.[0] ?? 0);
      throw new SourceSyntaxError(TOO_DEEP, p.line, p.col);
    }
    const range = (node as { range?: [number, number, number] }).range;
    if (range) {
      const p = lineCounter.linePos(range[0]);
      positions.set(path, { line: p.line, column: p.col });
    }
    if (YAML.isMap(node)) {
      for (const pair of node.items) {
        const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        walk(pair.value, childPath(path, key), depth + 1);
      }
    } else if (YAML.isSeq(node)) {
      node.items.forEach((item, idx) => walk(item, childPath(path, idx), depth + 1));
    }
  };
  walk(doc.contents, "", 0);
  // YAML 1.2 core schema: no Date objects or other surprises reach the template layer.
  const value = doc.toJS({ maxAliasCount: 100 });
  return { value, positions };
}
