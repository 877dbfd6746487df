/**
 * Locals and data sources, evaluated in dependency order: a local may read a
 * data source and a data source a local, so both are nodes of one graph.
 * A cycle is reported with its members, never looped on.
 */
import type { Block, Expr, HclFile, Range, TemplatePart } from "./ast.ts";
import { type Diagnostic, DiagnosticError, error } from "./diagnostic.ts";
import { evaluate, type Scope } from "./eval.ts";
import { evalBody, type NestedShape } from "./body.ts";
import type { ObjectValue, Value } from "./value.ts";

/** Runs data sources for the loader: the component registry lives above the template layer. */
export interface DataSourceRunner {
  /** Known types. */
  types(): string[];
  /** The nested-block shape of a type's options, or undefined when kiln lacks the type. */
  shape(type: string): Promise<NestedShape | undefined>;
  /** Decodes the options and fetches the data; resolves to the block's attributes. */
  run(type: string, name: string, config: ObjectValue, range: Range): Promise<Value>;
}

interface Node {
  id: string;
  range: Range;
  deps: string[];
  evaluate(scope: Scope): Promise<Value>;
  sensitive: boolean;
}

/** Roots `local.x` and `data.t.n` an expression reads. */
export function references(e: Expr | TemplatePart, out: Set<string> = new Set()): Set<string> {
  const walk = (x: Expr | TemplatePart | undefined): void => {
    if (!x) return;
    switch (x.kind) {
      case "getattr": {
        if (x.target.kind === "var" && x.target.name === "local") out.add(`local.${x.name}`);
        if (
          x.target.kind === "getattr" && x.target.target.kind === "var" &&
          x.target.target.name === "data"
        ) {
          out.add(`data.${x.target.name}.${x.name}`);
        }
        return walk(x.target);
      }
      case "index":
        walk(x.target);
        return walk(x.key);
      case "splat":
        walk(x.target);
        for (const s of x.steps) if ("index" in s) walk(s.index);
        return;
      case "call":
        return x.args.forEach(walk);
      case "tuple":
        return x.items.forEach(walk);
      case "object":
        return x.items.forEach((i) => (walk(i.key), walk(i.value)));
      case "unary":
        return walk(x.operand);
      case "binary":
        walk(x.left);
        return walk(x.right);
      case "conditional":
        walk(x.cond);
        walk(x.then);
        return walk(x.else);
      case "for":
        walk(x.collection);
        if ("body" in x) return x.body.forEach(walk);
        walk(x.keyExpr);
        walk(x.valueExpr);
        return walk(x.cond);
      case "paren":
        return walk(x.expr);
      case "template":
        return x.parts.forEach(walk);
      case "interp":
        return walk(x.expr);
      case "if":
        walk(x.cond);
        x.then.forEach(walk);
        return x.else.forEach(walk);
    }
  };
  walk(e);
  return out;
}

function blockReferences(block: Block): string[] {
  const out = new Set<string>();
  const visit = (b: Block) => {
    for (const a of b.body.attributes) references(a.expr, out);
    b.body.blocks.forEach(visit);
  };
  visit(block);
  return [...out];
}

/** The evaluated `local` and `data` objects, and the values marked sensitive. */
export interface Evaluated {
  local: ObjectValue;
  data: Record<string, ObjectValue>;
  sensitive: Value[];
}

/** Evaluates every local and data source; `base` sees var, path, packer. */
export async function evaluateLocalsAndData(
  files: HclFile[],
  base: Scope,
  dataSources: DataSourceRunner | undefined,
): Promise<Evaluated> {
  const nodes = new Map<string, Node>();
  const problems: Diagnostic[] = [];
  const add = (node: Node, nameRange: Range) => {
    const before = nodes.get(node.id);
    if (before) {
      problems.push(
        error(
          "Duplicate " + (node.id.startsWith("data.") ? "data source" : "local value"),
          `${node.id} is already defined at ${before.range.file}:${before.range.start.line}.`,
          nameRange,
        ),
      );
    } else nodes.set(node.id, node);
  };
  for (const file of files) {
    for (const block of file.body.blocks) {
      if (block.type === "locals") {
        if (block.body.blocks.length > 0) {
          problems.push(
            error(
              "Unexpected block",
              "A locals block holds only `name = expression` assignments.",
              block.body.blocks[0].typeRange,
            ),
          );
        }
        for (const a of block.body.attributes) {
          add({
            id: `local.${a.name}`,
            range: a.range,
            deps: [...references(a.expr)],
            sensitive: false,
            evaluate: (s) => Promise.resolve(evaluate(a.expr, s)),
          }, a.nameRange);
        }
      } else if (block.type === "local") {
        const expr = block.body.attributes.find((a) => a.name === "expression");
        const sens = block.body.attributes.find((a) => a.name === "sensitive");
        if (block.labels.length !== 1 || !expr) {
          problems.push(
            error(
              "Invalid local block",
              `A local block has one label (its name) and an "expression" argument.`,
              block.range,
            ),
          );
          continue;
        }
        let sensitive = false;
        try {
          sensitive = sens ? evaluate(sens.expr, base) === true : false;
        } catch (err) {
          if (!(err instanceof DiagnosticError)) throw err;
          problems.push(...err.diagnostics);
        }
        add({
          id: `local.${block.labels[0]}`,
          range: block.range,
          deps: [...references(expr.expr)],
          sensitive,
          evaluate: (s) => Promise.resolve(evaluate(expr.expr, s)),
        }, block.labelRanges[0]);
      } else if (block.type === "data") {
        if (block.labels.length !== 2) {
          problems.push(
            error(
              "Invalid data block",
              `A data block has two labels: the data source type and a name (data "http" "example").`,
              block.typeRange,
            ),
          );
          continue;
        }
        const [type, name] = block.labels;
        add({
          id: `data.${type}.${name}`,
          range: block.range,
          deps: blockReferences(block),
          sensitive: false,
          evaluate: async (s) => {
            const shape = dataSources ? await dataSources.shape(type) : undefined;
            if (!shape || !dataSources) {
              throw new DiagnosticError([
                error(
                  "Unknown data source type",
                  `kiln has no "${type}" data source.${
                    dataSources ? ` It knows: ${dataSources.types().join(", ")}.` : ""
                  }`,
                  block.labelRanges[0],
                ),
              ]);
            }
            const config = evalBody(block.body, s, shape, new Map());
            return await dataSources.run(type, name, config, block.range);
          },
        }, block.labelRanges[1]);
      }
    }
  }
  const local: ObjectValue = {};
  const data: Record<string, ObjectValue> = {};
  const sensitive: Value[] = [];
  const failed = new Set<string>();
  const state = new Map<string, "active" | "done">();
  const scope: Scope = {
    ...base,
    lookup: (n) => n === "local" ? local : n === "data" ? data : base.lookup(n),
  };
  const visit = async (id: string, chain: string[]): Promise<void> => {
    const node = nodes.get(id)!;
    if (state.get(id) === "done") return;
    if (state.get(id) === "active") {
      const cycle = [...chain.slice(chain.indexOf(id)), id];
      problems.push(
        error(
          "Cycle in locals and data sources",
          `These refer to each other in a loop: ${cycle.join(" → ")}.`,
          node.range,
        ),
      );
      failed.add(id);
      return;
    }
    state.set(id, "active");
    for (const dep of node.deps) {
      if (!nodes.has(dep)) continue;
      await visit(dep, [...chain, id]);
      if (failed.has(dep)) failed.add(id);
    }
    state.set(id, "done");
    if (failed.has(id)) return;
    try {
      const v = await node.evaluate(scope);
      if (node.sensitive) sensitive.push(v);
      const parts = id.split(".");
      if (parts[0] === "local") local[parts[1]] = v;
      else (data[parts[1]] ??= {})[parts[2]] = v;
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      failed.add(id);
      problems.push(...err.diagnostics);
    }
  };
  for (const id of nodes.keys()) await visit(id, []);
  if (problems.length > 0) throw new DiagnosticError(problems);
  return { local, data, sensitive };
}
