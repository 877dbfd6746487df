/**
 * The template engine: renders Packer's `{{ }}` strings with Go
 * text/template semantics (pipelines, `.Field` data, functions, if/with/range).
 * Errors read like Packer's (`template: root:1:3: executing "root" at <...>:
 * error calling split: ...`) and are thrown as EngineError.
 */
import { type Command, EngineError, lineCol, type Node, type Operand } from "./engine_parse.ts";
import { operandsOf, parseTemplateText, type Pipeline } from "./engine_parse.ts";
import { RenderBudget, RenderLimitError, tooLongMessage } from "./render_budget.ts";
import { type FuncContext, FuncError, FUNCS, type FuncSpec } from "./funcs.ts";
import { GoInt, goString, goType, isTrue, plain } from "./engine_values.ts";

export { EngineError } from "./engine_parse.ts";
export { RenderBudget, RenderLimitError } from "./render_budget.ts";

/** What a string is rendered with. */
export interface RenderContext {
  /** Resolved user variables. */
  variables: Record<string, string>;
  /** Directory of the template (`template_dir`). */
  templateDir: string;
  buildName?: string;
  buildType?: string;
  /** Component data for `{{.Path}}`, `{{.Vars}}`, `{{.BuildName}}`, ... */
  data?: Record<string, unknown>;
  /** Values for `build \`Host\``, known once the build's machine exists. */
  buildData?: Record<string, string>;
  /** Internal: rendering a variable default (env allowed, unknown `user` errors). */
  inVariables?: boolean;
  /**
   * The size limits this rendering shares with others (one per template
   * preparation); a fresh one per call when absent.
   */
  budget?: RenderBudget;
}

const cache = new Map<string, Node[]>();

/** Parses (with a small cache: the same strings render once per build). */
function parsed(text: string): Node[] {
  let nodes = cache.get(text);
  if (!nodes) {
    nodes = parseTemplateText(text);
    checkFunctions(text, nodes);
    if (cache.size > 2000) cache.clear();
    cache.set(text, nodes);
  }
  return nodes;
}

/** Functions Packer renamed; `kiln fix` (clean-image-name) rewrites them in builders. */
const RENAMED_FUNCS: Record<string, string> = {
  clean_ami_name: "clean_resource_name",
  clean_image_name: "clean_resource_name",
};

/** Go's words for an unknown function, with the new name of a renamed one. */
function notDefined(name: string): string {
  const renamed = Object.hasOwn(RENAMED_FUNCS, name) ? RENAMED_FUNCS[name] : undefined;
  return `function "${name}" not defined` +
    (renamed ? ` (now ${renamed}: \`kiln fix\` rewrites it in builders)` : "");
}

/** Go resolves function names at parse time: an unknown one is a syntax error. */
function checkFunctions(src: string, nodes: Node[]): void {
  for (const a of operandsOf(nodes)) {
    if (a.kind === "ident" && !Object.hasOwn(FUNCS, a.name)) {
      const [line] = lineCol(src, a.pos);
      throw new EngineError(`template: root:${line}: ${notDefined(a.name)}`);
    }
  }
}

/** Checks a string's syntax without rendering it; throws EngineError. */
export function checkSyntax(text: string): void {
  if (text.includes("{{")) parsed(text);
}

/** True when the string calls `name` anywhere (e.g. `build`, rendered at provision time). */
export function usesFunction(text: string, name: string): boolean {
  if (!text.includes("{{")) return false;
  let nodes: Node[];
  try {
    nodes = parsed(text);
  } catch {
    return false;
  }
  for (const a of operandsOf(nodes)) if (a.kind === "ident" && a.name === name) return true;
  return false;
}

class Exec {
  private vars: Map<string, unknown>[] = [];
  constructor(
    private src: string,
    private ctx: RenderContext,
    private fctx: FuncContext,
    private budget: RenderBudget,
  ) {}

  private fail(pos: number, at: string, message: string): never {
    const [line, col] = lineCol(this.src, pos);
    throw new EngineError(`template: root:${line}:${col}: executing "root" at <${at}>: ${message}`);
  }

  run(nodes: Node[], dot: unknown): string {
    let out = "";
    // Checked before each append, so a string never grows past the limit.
    const append = (piece: string, at?: Pipeline) => {
      if (!this.budget.fits(out.length + piece.length)) {
        const message = tooLongMessage(this.budget.maxLength);
        if (at) this.fail(at.pos, at.text, message);
        throw new RenderLimitError(`template: root: ${message}`);
      }
      out += piece;
    };
    for (const n of nodes) {
      if (n.kind === "text") append(n.text);
      else if (n.kind === "action") {
        const v = this.pipeline(n.pipe, dot);
        if (!n.pipe.decl) {
          append(v === undefined || v === null ? "<no value>" : goString(v), n.pipe);
        }
      } else if (n.kind === "range") {
        this.vars.push(new Map());
        try {
          const v = this.pipeline(n.pipe, dot);
          const items = plain(v);
          const list = Array.isArray(items)
            ? items
            : items && typeof items === "object"
            ? Object.keys(items).sort().map((k) => (items as Record<string, unknown>)[k])
            : items === undefined || items === null
            ? []
            : this.fail(n.pipe.pos, n.pipe.text, `range can't iterate over ${goString(v)}`);
          if (list.length === 0) append(this.run(n.elseList, dot), n.pipe);
          for (const item of list) append(this.run(n.list, item), n.pipe);
        } finally {
          this.vars.pop();
        }
      } else {
        // An `else if` chain is a loop here: each link is the else branch of the one before,
        // so its scope stays open until the chain ends, as in Go.
        let node = n;
        let scopes = 0;
        try {
          for (;;) {
            this.vars.push(new Map());
            scopes++;
            const v = this.pipeline(node.pipe, dot);
            if (isTrue(v)) {
              append(this.run(node.list, node.kind === "with" ? v : dot), node.pipe);
              break;
            }
            const next = node.elseList.length === 1 ? node.elseList[0] : undefined;
            if (next?.kind === "if" && next.chained) {
              node = next;
              continue;
            }
            append(this.run(node.elseList, dot), node.pipe);
            break;
          }
        } finally {
          this.vars.length -= scopes;
        }
      }
    }
    return out;
  }

  private pipeline(p: Pipeline, dot: unknown): unknown {
    let value: unknown;
    let has = false;
    for (const c of p.commands) {
      value = this.command(c, dot, has ? [value] : [], p);
      has = true;
    }
    if (p.decl) {
      const scope = this.vars[this.vars.length - 1] ?? new Map();
      if (this.vars.length === 0) this.vars.push(scope);
      scope.set(p.decl, value);
    }
    return value;
  }

  private command(c: Command, dot: unknown, piped: unknown[], p: Pipeline): unknown {
    const [first, ...rest] = c.args;
    if (first.kind === "ident") {
      if (!Object.hasOwn(FUNCS, first.name)) {
        this.fail(first.pos, p.text, notDefined(first.name));
      }
      return this.call(first.name, FUNCS[first.name], rest, piped, dot, first.pos, p);
    }
    if (rest.length > 0 || piped.length > 0) {
      this.fail(first.pos, p.text, `can't give argument to non-function ${describe(first)}`);
    }
    if (first.kind === "nil") this.fail(first.pos, p.text, "nil is not a command");
    return this.operand(first, dot, p);
  }

  private operand(o: Operand, dot: unknown, p: Pipeline): unknown {
    switch (o.kind) {
      case "string":
        return o.value;
      case "number":
        return o.isInt ? new GoInt(o.value) : o.value;
      case "bool":
        return o.value;
      case "nil":
        return null;
      case "field":
        return fieldOf(dot, o.path);
      case "var": {
        if (o.name === "$") return fieldOf(dot, o.path);
        for (let i = this.vars.length - 1; i >= 0; i--) {
          if (this.vars[i].has(o.name)) return fieldOf(this.vars[i].get(o.name), o.path);
        }
        return this.fail(o.pos, p.text, `undefined variable: ${o.name}`);
      }
      case "pipe":
        return this.pipeline(o.pipe, dot);
      case "ident":
        if (!Object.hasOwn(FUNCS, o.name)) {
          this.fail(o.pos, p.text, notDefined(o.name));
        }
        return this.call(o.name, FUNCS[o.name], [], [], dot, o.pos, p);
    }
  }

  private call(
    name: string,
    spec: FuncSpec,
    argOps: Operand[],
    piped: unknown[],
    dot: unknown,
    pos: number,
    p: Pipeline,
  ): unknown {
    const total = argOps.length + piped.length;
    const fixed = spec.params.length;
    if (spec.variadic ? total < fixed : total !== fixed) {
      this.fail(
        pos,
        p.text,
        `wrong number of args for ${name}: want ${
          spec.variadic ? "at least " : ""
        }${fixed} got ${total}`,
      );
    }
    const args: unknown[] = [];
    const kindAt = (i: number) => i < fixed ? spec.params[i] : spec.variadic!;
    argOps.forEach((op, i) => args.push(this.argument(op, kindAt(i), dot, p)));
    piped.forEach((v, j) => args.push(this.convert(v, kindAt(argOps.length + j), pos, p)));
    let result: unknown;
    try {
      result = spec.call(args, this.fctx);
    } catch (err) {
      if (err instanceof FuncError) this.fail(pos, p.text, `error calling ${name}: ${err.message}`);
      if (err instanceof RenderLimitError) this.fail(pos, p.text, err.message);
      throw err;
    }
    if (typeof result === "string" && !this.budget.fits(result.length)) {
      this.fail(pos, p.text, tooLongMessage(this.budget.maxLength));
    }
    return result;
  }

  /** Evaluates an argument; Go checks literal constants against the parameter kind. */
  private argument(op: Operand, kind: string, dot: unknown, p: Pipeline): unknown {
    if (kind === "string" && (op.kind === "number" || op.kind === "bool" || op.kind === "nil")) {
      this.fail(op.pos, p.text, `expected string; found ${describe(op)}`);
    }
    if (kind === "int") {
      if (op.kind === "string" || op.kind === "bool" || op.kind === "nil") {
        this.fail(op.pos, p.text, `expected integer; found ${describe(op)}`);
      }
      if (op.kind === "number" && !op.isInt) {
        this.fail(op.pos, p.text, `expected integer; found ${op.text}`);
      }
    }
    return this.convert(this.operand(op, dot, p), kind, op.pos, p);
  }

  private convert(v: unknown, kind: string, pos: number, p: Pipeline): unknown {
    if (kind === "any") return v;
    if (kind === "string" && typeof v !== "string") {
      this.fail(pos, p.text, `wrong type for value; expected string; got ${goType(v)}`);
    }
    if (kind === "int" && !(v instanceof GoInt)) {
      this.fail(pos, p.text, `wrong type for value; expected int; got ${goType(v)}`);
    }
    return v;
  }
}

function describe(op: Operand): string {
  switch (op.kind) {
    case "string":
      return "`" + op.value + "`";
    case "number":
      return op.text;
    case "bool":
      return String(op.value);
    case "nil":
      return "nil";
    case "field":
      return "." + op.path.join(".");
    case "var":
      return [op.name, ...op.path].join(".");
    case "ident":
      return op.name;
    case "pipe":
      return "(pipeline)";
  }
}

function fieldOf(v: unknown, path: string[]): unknown {
  let cur = v;
  for (const key of path) {
    if (cur === null || cur === undefined || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * Renders one template string. Strings without `{{` are returned unchanged.
 * Throws EngineError on a syntax or execution error.
 */
export function renderString(text: string, ctx: RenderContext): string {
  if (!text.includes("{{")) return text;
  const nodes = parsed(text);
  const budget = ctx.budget ?? new RenderBudget();
  const fctx: FuncContext = {
    variables: ctx.variables,
    templateDir: ctx.templateDir,
    buildName: ctx.buildName,
    buildType: ctx.buildType,
    buildData: ctx.buildData,
    inVariables: ctx.inVariables,
    budget,
  };
  const out = new Exec(text, ctx, fctx, budget).run(nodes, ctx.data);
  budget.spend(out.length);
  return out;
}
