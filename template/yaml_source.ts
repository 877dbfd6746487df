/**
 * Reads YAML templates and var-files (npm `yaml`, imported only when a YAML
 * file is read) into the same SourceDoc as JSON: values, positions, and what
 * Packer would refuse in the JSON spelling (duplicate keys, numbers out of
 * range). Nesting is measured on the parser's token tree, which is built
 * without recursion, before anything recursive runs; aliases are bounded in
 * count and, once expanded, in depth.
 */
import type * as Yaml from "yaml";
import {
  childPath,
  duplicateKeyMessage,
  excerpt,
  MAX_NESTING,
  type Position,
  shortPath,
  type SourceDoc,
  type SourceProblem,
  SourceSyntaxError,
  TOO_DEEP,
} from "./source.ts";

/** How many alias expansions a YAML file may need (npm `yaml`'s guard against "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

const isCollection = (
  t: Yaml.CST.Token,
): t is Yaml.CST.BlockMap | Yaml.CST.BlockSequence | Yaml.CST.FlowCollection =>
  t.type === "block-map" || t.type === "block-seq" || t.type === "flow-collection";

/**
 * The JSON path of the innermost open collection on the parser's stack. A
 * child joins its parent's items only when it closes, so the open child of a
 * sequence is at its item count (or the last item, a placeholder, in block
 * and flow sequences), and of a map at its last item's key.
 */
function openPath(
  open: (Yaml.CST.BlockMap | Yaml.CST.BlockSequence | Yaml.CST.FlowCollection)[],
  scalarText: (token: Yaml.CST.Token) => string,
): string {
  let path = "";
  for (const parent of open.slice(0, -1)) {
    const items = parent.items as Yaml.CST.CollectionItem[];
    const last = items[items.length - 1];
    if (parent.type === "block-seq") path = childPath(path, Math.max(0, items.length - 1));
    else if (parent.type === "flow-collection" && parent.start.source === "[") {
      const placeholder = last !== undefined && !last.key && !last.value;
      path = childPath(path, placeholder ? items.length - 1 : items.length);
    } else path = childPath(path, last?.key ? scalarText(last.key) : "");
  }
  return path;
}

/**
 * Runs the parser (which keeps open collections on an explicit stack, no
 * recursion) over the text and stops at the first collection nested deeper
 * than MAX_NESTING, before the rest is read: a 2 MB line of `[` would
 * otherwise build a gigabyte of tokens first.
 */
function checkDepth(
  YAML: typeof Yaml,
  text: string,
  onNewLine: (offset: number) => void,
  fail: (offset: number, path: string) => never,
): void {
  const parser = new YAML.Parser(onNewLine);
  const scalarText = (token: Yaml.CST.Token) =>
    String(YAML.CST.resolveAsScalar(token as Yaml.CST.FlowScalar)?.value ?? "");
  onNewLine(0);
  for (const lexeme of new YAML.Lexer().lex(text)) {
    for (const _ of parser.next(lexeme));
    // The stack also holds the document and the odd scalar: count only when it might matter.
    if (parser.stack.length <= MAX_NESTING) continue;
    const open = parser.stack.filter(isCollection);
    if (open.length > MAX_NESTING) {
      const tooDeep = open.slice(0, MAX_NESTING + 1);
      fail(tooDeep[MAX_NESTING].offset, openPath(tooDeep, scalarText));
    }
  }
  for (const _ of parser.end());
}

/** Depth of a plain value's objects and arrays, without recursion; stops counting past `limit`. */
function valueDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (!v || typeof v !== "object") continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Parses YAML text, recording value positions and what Packer would refuse. */
export async function parseYamlSource(text: string): Promise<SourceDoc> {
  const YAML = await import("yaml");
  const lineCounter = new YAML.LineCounter();
  const at = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  checkDepth(YAML, text, lineCounter.addNewLine, (offset, path) => {
    const p = at(offset);
    throw new SourceSyntaxError(TOO_DEEP, p.line, p.column, shortPath(path));
  });
  const doc = YAML.parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const p = at(err.pos[0]);
    // The yaml package reports its own stack overflow as a parse error.
    const message = /Maximum call stack/.test(err.message) ? TOO_DEEP : err.message;
    throw new SourceSyntaxError(message.split("\n")[0], p.line, p.column);
  }
  const positions = new Map<string, Position>();
  const problems: SourceProblem[] = [];
  let firstAlias: (Position & { path: string }) | undefined;
  // Recursion is safe here: the token tree was at most MAX_NESTING deep, and aliases are not followed.
  const walk = (node: unknown, path: string) => {
    if (!YAML.isNode(node)) return;
    const start = node.range ? at(node.range[0]) : undefined;
    if (start) positions.set(path, start);
    if (YAML.isAlias(node)) firstAlias ??= { ...(start ?? { line: 1, column: 1 }), path };
    if (YAML.isScalar(node)) {
      if (typeof node.value === "number" && !Number.isFinite(node.value)) {
        const source = node.range ? text.slice(node.range[0], node.range[1]) : String(node.value);
        problems.push({
          kind: "number-out-of-range",
          path,
          message: `number ${
            excerpt(source.trim(), 40)
          } is out of range: numbers must be finite and fit a 64-bit float (magnitude below 1.8e308)`,
          line: start?.line ?? 1,
          column: start?.column ?? 1,
        });
      }
    } else if (YAML.isMap(node)) {
      const seen = new Map<string, Position | undefined>();
      for (const pair of node.items) {
        const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const keyNode = pair.key as Yaml.Node | null;
        const keyAt = keyNode?.range ? at(keyNode.range[0]) : start;
        const valueNode = pair.value as Yaml.Node | null;
        const valueAt = valueNode?.range ? at(valueNode.range[0]) : keyAt;
        if (seen.has(key)) {
          problems.push({
            kind: "duplicate-key",
            path: childPath(path, key),
            message: duplicateKeyMessage(key, seen.get(key)),
            line: keyAt?.line ?? 1,
            column: keyAt?.column ?? 1,
          });
        }
        seen.set(key, valueAt);
        walk(pair.value, childPath(path, key));
      }
    } else if (YAML.isSeq(node)) {
      node.items.forEach((item, idx) => walk(item, childPath(path, idx)));
    }
  };
  walk(doc.contents, "");
  let value: unknown;
  try {
    // YAML 1.2 core schema: no Date objects or other surprises reach the template layer.
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const p = firstAlias ?? { line: 1, column: 1, path: "" };
    p.path = shortPath(p.path);
    if (err instanceof RangeError) {
      throw new SourceSyntaxError(
        `${TOO_DEEP} once aliases are expanded`,
        p.line,
        p.column,
        p.path,
      );
    }
    if (err instanceof ReferenceError) {
      throw new SourceSyntaxError(
        `aliases expand more than ${MAX_ALIAS_COUNT} times (kiln's guard against exponential ` +
          `expansion): ${err.message}`,
        p.line,
        p.column,
        p.path,
      );
    }
    throw err;
  }
  if (firstAlias && valueDepth(value, MAX_NESTING) > MAX_NESTING) {
    throw new SourceSyntaxError(
      `${TOO_DEEP} once aliases are expanded`,
      firstAlias.line,
      firstAlias.column,
      shortPath(firstAlias.path),
    );
  }
  return { value, positions, problems };
}
