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

/** A token of the parse tree with the way back to the document root. */
interface Step {
  token: Yaml.CST.Token;
  depth: number;
  parent?: Step;
  key?: string | number;
}

/** The JSON path of a step: `a.b[2]`. */
function pathOf(step: Step): string {
  const keys: (string | number)[] = [];
  for (let s: Step | undefined = step; s; s = s.parent) if (s.key !== undefined) keys.push(s.key);
  return keys.reverse().reduce<string>((path, key) => childPath(path, key), "");
}

/** The first collection nested deeper than MAX_NESTING (offset and JSON path), if any. */
function tooDeep(
  root: Yaml.CST.Token,
  scalarText: (token: Yaml.CST.Token) => string,
): { offset: number; path: string } | undefined {
  const stack: Step[] = [{ token: root, depth: 0 }];
  while (stack.length > 0) {
    const step = stack.pop()!;
    const { token, depth } = step;
    if (token.type === "document") {
      if (token.value) stack.push({ token: token.value, depth, parent: step });
      continue;
    }
    if (
      token.type !== "block-map" && token.type !== "block-seq" && token.type !== "flow-collection"
    ) {
      continue;
    }
    if (depth + 1 > MAX_NESTING) return { offset: token.offset, path: pathOf(step) };
    const isSeq = token.type === "block-seq" ||
      (token.type === "flow-collection" && token.start.source === "[");
    (token.items as Yaml.CST.CollectionItem[]).forEach((item, i) => {
      const key = isSeq ? i : item.key ? scalarText(item.key) : "";
      if (item.key) stack.push({ token: item.key, depth: depth + 1, parent: step, key });
      if (item.value) stack.push({ token: item.value, depth: depth + 1, parent: step, key });
    });
  }
  return undefined;
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
  const scalarText = (token: Yaml.CST.Token) =>
    String(YAML.CST.resolveAsScalar(token as Yaml.CST.FlowScalar)?.value ?? "");
  for (const token of new YAML.Parser(lineCounter.addNewLine).parse(text)) {
    const deep = tooDeep(token, scalarText);
    if (deep) {
      const p = at(deep.offset);
      throw new SourceSyntaxError(TOO_DEEP, p.line, p.column, shortPath(deep.path));
    }
  }
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
