/**
 * Parses HCL native syntax into kiln's syntax tree (ast.ts). tree-sitter
 * does the parsing; this file only reshapes its concrete tree and turns its
 * error nodes into diagnostics, all of them at once.
 */
import type { Node } from "web-tree-sitter";
import type {
  Attribute,
  Block,
  Body,
  Expr,
  HclFile,
  Range,
  SplatStep,
  TemplatePart,
} from "./ast.ts";
import { type Diagnostic, DiagnosticError, error } from "./diagnostic.ts";
import { hclParser, loadedHclParser } from "./tree_sitter.ts";
import { checkHclSyntax } from "./syntax_check.ts";
import { type HclSyntaxError, lexHcl } from "./lexer.ts";

function syntaxDiagnostic(path: string, text: string, e: HclSyntaxError): Diagnostic {
  const colon = e.message.indexOf(": ");
  const summary = colon > 0 ? e.message.slice(0, colon) : "Invalid syntax";
  const detail = colon > 0 ? e.message.slice(colon + 2) : e.message;
  const lineStart = text.split("\n").slice(0, e.line - 1).reduce((n, l) => n + l.length + 1, 0);
  const start = { line: e.line, column: e.column, offset: lineStart + e.column - 1 };
  return error(
    summary,
    detail.charAt(0).toUpperCase() + detail.slice(1),
    { file: path, start, end: { ...start, column: e.column + 1, offset: start.offset + 1 } },
  );
}

/** Parses one file's text; throws DiagnosticError listing every syntax error. */
export async function parseHcl(path: string, text: string): Promise<HclFile> {
  await hclParser();
  return parseHclSync(path, text);
}

/** parseHcl once the grammar is loaded (functions such as templatefile must be synchronous). */
export function parseHclSync(path: string, text: string): HclFile {
  const parser = loadedHclParser();
  if (!parser) throw new Error("the HCL grammar is not loaded yet");
  // HCL's own grammar, checked first: its messages say what was expected where, as HCL's do.
  const wrong = checkHclSyntax(text);
  if (wrong) throw new DiagnosticError([syntaxDiagnostic(path, text, wrong)]);
  const { masked, numbers } = maskExponents(text);
  const tree = parser.parse(masked);
  if (!tree) throw new DiagnosticError([error("Invalid HCL", "the parser gave up", undefined)]);
  try {
    const c = new Converter(path, text, numbers);
    const root = tree.rootNode;
    if (root.hasError) throw new DiagnosticError(c.syntaxErrors(root));
    const bodyNode = root.namedChildren.find((n) => n?.type === "body");
    if (root.namedChildren.some((n) => n?.type === "object")) {
      throw new DiagnosticError([
        error(
          "Invalid HCL file",
          "a file of HCL native syntax holds blocks and attributes, not a bare object " +
            "(JSON syntax belongs in a .pkr.json file)",
          c.range(root),
        ),
      ]);
    }
    return { path, text, body: bodyNode ? c.body(bodyNode) : c.emptyBody(root) };
  } finally {
    tree.delete();
  }
}

const POSTFIX = new Set(["get_attr", "index", "splat"]);
const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };

interface Marks {
  before: boolean;
  after: boolean;
}

class Converter {
  constructor(
    readonly file: string,
    readonly text: string,
    readonly numbers: ReadonlyMap<string, number> = new Map(),
  ) {}

  range(n: Node): Range {
    return {
      file: this.file,
      start: {
        line: n.startPosition.row + 1,
        column: n.startPosition.column + 1,
        offset: n.startIndex,
      },
      end: { line: n.endPosition.row + 1, column: n.endPosition.column + 1, offset: n.endIndex },
    };
  }

  emptyBody(n: Node): Body {
    return { attributes: [], blocks: [], range: this.range(n) };
  }

  syntaxErrors(root: Node): Diagnostic[] {
    const out: Diagnostic[] = [];
    const visit = (n: Node) => {
      if (out.length >= 20) return;
      if (n.isMissing) {
        out.push(error("Missing token", `expected ${JSON.stringify(n.type)} here`, this.range(n)));
        return;
      }
      if (n.type === "ERROR") {
        const what = this.text.slice(n.startIndex, Math.min(n.endIndex, n.startIndex + 40))
          .split("\n")[0];
        out.push(error(
          "Invalid syntax",
          what.trim() === ""
            ? "this part of the file is not valid HCL"
            : `unexpected ${JSON.stringify(what.trim())}: not valid HCL here (an attribute is ` +
              `\`name = value\`, a block is \`type "label" { ... }\`)`,
          this.range(n),
        ));
        return;
      }
      if (n.hasError) { for (const c of n.children) if (c) visit(c); }
    };
    visit(root);
    if (out.length === 0) {
      out.push(error("Invalid syntax", "the file is not valid HCL", this.range(root)));
    }
    return out;
  }

  body(n: Node): Body {
    const attributes: Attribute[] = [];
    const blocks: Block[] = [];
    for (const c of n.namedChildren) {
      if (!c) continue;
      if (c.type === "attribute") attributes.push(this.attribute(c));
      else if (c.type === "block") blocks.push(this.block(c));
    }
    return { attributes, blocks, range: this.range(n) };
  }

  attribute(n: Node): Attribute {
    const name = n.namedChildren.find((c) => c?.type === "identifier")!;
    const value = n.namedChildren.find((c) => c?.type === "expression")!;
    return {
      name: name.text,
      nameRange: this.range(name),
      expr: this.expr(value),
      range: this.range(n),
    };
  }

  block(n: Node): Block {
    const named = n.namedChildren.filter((c): c is Node => c !== null);
    const type = named[0];
    const labels = named.slice(1).filter((c) => c.type === "string_lit" || c.type === "identifier");
    const bodyNode = named.find((c) => c.type === "body");
    return {
      type: type.text,
      typeRange: this.range(type),
      labels: labels.map((l) => l.type === "identifier" ? l.text : this.stringLiteral(l)),
      labelRanges: labels.map((l) => this.range(l)),
      body: bodyNode ? this.body(bodyNode) : { attributes: [], blocks: [], range: this.range(n) },
      range: this.range(n),
    };
  }

  /** A string literal without interpolation (block labels, literal values). */
  stringLiteral(n: Node): string {
    const start = n.children[0]!;
    const end = n.children[n.children.length - 1]!;
    return unescapeQuoted(this.text.slice(start.endIndex, end.startIndex));
  }

  expr(n: Node): Expr {
    const r = this.range(n);
    switch (n.type) {
      case "expression":
        return this.chain(
          n.children.filter((c): c is Node => c !== null && c.type !== "comment"),
          r,
        );
      case "operation":
        return this.expr(n.namedChildren[0]!);
      case "binary_operation": {
        const kids = n.children.filter((c): c is Node => c !== null && c.type !== "comment");
        // The operator is the first unnamed token outside a parenthesised left operand.
        let depth = 0;
        const opAt = kids.findIndex((c, i) => {
          if (c.type === "(") depth++;
          else if (c.type === ")") depth--;
          else if (i > 0 && !c.isNamed && depth === 0) return true;
          return false;
        });
        const left = this.chain(kids.slice(0, opAt), r);
        const right = this.chain(kids.slice(opAt + 1), r);
        return { kind: "binary", op: kids[opAt].type, left, right, range: r };
      }
      case "unary_operation": {
        const kids = n.children.filter((c): c is Node => c !== null && c.type !== "comment");
        return {
          kind: "unary",
          op: kids[0].type as "-" | "!",
          operand: this.chain(kids.slice(1), r),
          range: r,
        };
      }
      case "literal_value":
        return this.literal(n.namedChildren[0]!, r);
      case "template_expr":
        return this.template(n.namedChildren[0]!, r);
      case "variable_expr": {
        const name = n.namedChildren[0]!.text;
        const masked = this.numbers.get(name);
        if (masked !== undefined) return { kind: "literal", value: masked, range: r };
        return { kind: "var", name, range: r };
      }
      case "function_call": {
        const name = n.namedChildren.find((c) => c?.type === "identifier")!.text;
        const argsNode = n.namedChildren.find((c) => c?.type === "function_arguments");
        const args = (argsNode?.namedChildren ?? []).filter((c): c is Node =>
          c?.type === "expression"
        );
        const expandFinal = (argsNode?.namedChildren ?? []).some((c) => c?.type === "ellipsis");
        return { kind: "call", name, args: args.map((a) => this.expr(a)), expandFinal, range: r };
      }
      case "collection_value":
        return this.expr(n.namedChildren[0]!);
      case "tuple":
        return {
          kind: "tuple",
          items: n.namedChildren.filter((c): c is Node => c?.type === "expression").map((c) =>
            this.expr(c)
          ),
          range: r,
        };
      case "object":
        return {
          kind: "object",
          items: n.namedChildren.filter((c): c is Node => c?.type === "object_elem").map((e) => {
            const keyNode = e.childForFieldName("key")!;
            const key = this.expr(keyNode);
            return {
              key,
              bareKey: key.kind === "var" ? key.name : undefined,
              value: this.expr(e.childForFieldName("val")!),
            };
          }),
          range: r,
        };
      case "conditional": {
        const [cond, then, otherwise] = n.namedChildren.filter((c): c is Node =>
          c?.type === "expression"
        );
        return {
          kind: "conditional",
          cond: this.expr(cond),
          then: this.expr(then),
          else: this.expr(otherwise),
          range: r,
        };
      }
      case "for_expr":
        return this.forExpr(n.namedChildren[0]!, r);
      case "string_lit":
        return { kind: "literal", value: this.stringLiteral(n), range: r };
      default:
        throw new DiagnosticError([
          error("Unsupported expression", `kiln cannot evaluate a ${n.type} here`, r),
        ]);
    }
  }

  /** A primary expression (or a parenthesised one) followed by traversals. */
  chain(kids: Node[], outer: Range): Expr {
    let i = 0;
    let e: Expr;
    if (kids[0]?.type === "(") {
      const close = kids.findIndex((k) => k.type === ")");
      e = { kind: "paren", expr: this.expr(kids[1]), range: this.span(kids[0], kids[close]) };
      i = close + 1;
    } else {
      e = this.expr(kids[0]);
      i = 1;
    }
    for (; i < kids.length; i++) {
      const k = kids[i];
      if (!POSTFIX.has(k.type)) continue;
      const r = { ...outer, start: e.range.start, end: this.range(k).end };
      if (k.type === "get_attr") {
        e = { kind: "getattr", target: e, name: k.namedChildren[0]!.text, range: r };
      } else if (k.type === "index") {
        e = { kind: "index", target: e, key: this.indexKey(k), range: r };
      } else e = { kind: "splat", target: e, steps: this.splatSteps(k), range: r };
    }
    return e;
  }

  span(a: Node, b: Node): Range {
    return { ...this.range(a), end: this.range(b).end };
  }

  indexKey(k: Node): Expr {
    const inner = k.namedChildren[0]!;
    if (inner.type === "legacy_index") {
      const digits = inner.text.replace(/^\./, "");
      return { kind: "literal", value: Number(digits), range: this.range(inner) };
    }
    return this.expr(inner.namedChildren.find((c) => c?.type === "expression")!);
  }

  splatSteps(k: Node): SplatStep[] {
    const inner = k.namedChildren[0]!;
    return inner.namedChildren.filter((c): c is Node => c !== null).map((s) =>
      s.type === "get_attr"
        ? { attr: s.namedChildren[0]!.text, range: this.range(s) }
        : { index: this.indexKey(s), range: this.range(s) }
    );
  }

  literal(n: Node, r: Range): Expr {
    switch (n.type) {
      case "numeric_lit":
        return { kind: "literal", value: Number(n.text), range: r };
      case "bool_lit":
        return { kind: "literal", value: n.text === "true", range: r };
      case "null_lit":
        return { kind: "literal", value: null, range: r };
      default:
        return { kind: "literal", value: this.stringLiteral(n), range: r };
    }
  }

  forExpr(n: Node, r: Range): Expr {
    const object = n.type === "for_object_expr";
    const intro = n.namedChildren.find((c) => c?.type === "for_intro")!;
    const vars = intro.namedChildren.filter((c): c is Node => c?.type === "identifier").map((c) =>
      c.text
    );
    const collection = this.expr(intro.namedChildren.find((c) => c?.type === "expression")!);
    const exprs = n.namedChildren.filter((c): c is Node => c?.type === "expression").map((c) =>
      this.expr(c)
    );
    const condNode = n.namedChildren.find((c) => c?.type === "for_cond");
    const cond = condNode
      ? this.expr(condNode.namedChildren.find((c) => c?.type === "expression")!)
      : undefined;
    return {
      kind: "for",
      keyVar: vars.length > 1 ? vars[0] : undefined,
      valueVar: vars[vars.length - 1],
      collection,
      keyExpr: object ? exprs[0] : undefined,
      valueExpr: object ? exprs[1] : exprs[0],
      cond,
      group: n.namedChildren.some((c) => c?.type === "ellipsis"),
      object,
      range: r,
    };
  }

  template(n: Node, r: Range): Expr {
    const kids = n.children.filter((c): c is Node => c !== null);
    if (n.type === "quoted_template") {
      const parts = this.parts(
        kids.slice(1, -1),
        kids[0].endIndex,
        kids[kids.length - 1].startIndex,
        unescapeQuoted,
        noMarks,
        noMarks,
      );
      return { kind: "template", parts, range: r };
    }
    // Heredoc: the body starts on the line after `<<ID` and ends where the closing ID's line starts.
    const strip = kids[0].text === "<<-";
    const ids = kids.filter((k) => k.type === "heredoc_identifier");
    const open = ids[0];
    const close = ids.length > 1 ? ids[ids.length - 1] : undefined;
    const nl = this.text.indexOf("\n", open.endIndex);
    const from = nl < 0 ? open.endIndex : nl + 1;
    const to = close ? this.text.lastIndexOf("\n", close.startIndex - 1) + 1 : from;
    const inner = kids.filter((k) => k !== kids[0] && !ids.includes(k));
    let parts = this.parts(inner, from, Math.max(from, to), unescapeHeredoc, noMarks, noMarks);
    if (strip) parts = stripIndent(parts, this.text.slice(from, Math.max(from, to)));
    return { kind: "template", parts, range: r };
  }

  /**
   * Template parts between `from` and `to`: the interpolations and directives
   * among `kids`, and the literal text in the gaps (tree-sitter's literal
   * nodes leave out whitespace, so gaps are read from the file).
   */
  parts(
    kids: Node[],
    from: number,
    to: number,
    unescape: (s: string) => string,
    openMarks: Marks,
    closeMarks: Marks,
  ): TemplatePart[] {
    const out: TemplatePart[] = [];
    let at = from;
    let stripNext = openMarks.after;
    const elements = kids.filter((k) =>
      k.type === "template_interpolation" || k.type === "template_directive"
    );
    const push = (raw: string, trimEnd: boolean) => {
      let text = unescape(raw);
      if (stripNext) text = text.replace(/^\s+/, "");
      if (trimEnd) text = text.replace(/\s+$/, "");
      if (text !== "") out.push({ kind: "lit", text });
    };
    for (const el of elements) {
      const first = el.type === "template_interpolation"
        ? el
        : el.namedChildren[0]!.namedChildren[0]!;
      push(this.text.slice(at, el.startIndex), this.marks(first).before);
      if (el.type === "template_interpolation") {
        out.push({
          kind: "interp",
          expr: this.expr(el.namedChildren.find((c) => c?.type === "expression")!),
          range: this.range(el),
        });
        stripNext = this.marks(el).after;
      } else {
        const d = el.namedChildren[0]!;
        out.push(
          d.type === "template_if" ? this.templateIf(d, unescape) : this.templateFor(d, unescape),
        );
        const parts = d.namedChildren.filter((c): c is Node => c !== null);
        stripNext = this.marks(parts[parts.length - 1]).after;
      }
      at = el.endIndex;
    }
    push(this.text.slice(at, to), closeMarks.before);
    return out;
  }

  templateIf(d: Node, unescape: (s: string) => string): TemplatePart {
    const kids = d.namedChildren.filter((c): c is Node => c !== null);
    const intro = kids[0];
    const elseAt = kids.findIndex((k) => k.type === "template_else_intro");
    const end = kids[kids.length - 1];
    const thenEnd = elseAt >= 0 ? kids[elseAt] : end;
    const then = this.parts(
      kids.slice(1, elseAt >= 0 ? elseAt : -1),
      intro.endIndex,
      thenEnd.startIndex,
      unescape,
      this.marks(intro),
      this.marks(thenEnd),
    );
    const otherwise = elseAt >= 0
      ? this.parts(
        kids.slice(elseAt + 1, -1),
        kids[elseAt].endIndex,
        end.startIndex,
        unescape,
        this.marks(kids[elseAt]),
        this.marks(end),
      )
      : [];
    return {
      kind: "if",
      cond: this.expr(intro.namedChildren.find((c) => c?.type === "expression")!),
      then,
      else: otherwise,
      range: this.range(d),
    };
  }

  templateFor(d: Node, unescape: (s: string) => string): TemplatePart {
    const kids = d.namedChildren.filter((c): c is Node => c !== null);
    const start = kids[0];
    const end = kids[kids.length - 1];
    const vars = start.namedChildren.filter((c): c is Node => c?.type === "identifier").map((c) =>
      c.text
    );
    return {
      kind: "for",
      keyVar: vars.length > 1 ? vars[0] : undefined,
      valueVar: vars[vars.length - 1],
      collection: this.expr(start.namedChildren.find((c) => c?.type === "expression")!),
      body: this.parts(
        kids.slice(1, -1),
        start.endIndex,
        end.startIndex,
        unescape,
        this.marks(start),
        this.marks(end),
      ),
      range: this.range(d),
    };
  }

  /** Where a `~` strip marker sits on an interpolation or directive tag. */
  marks(tag: Node): Marks {
    const kids = tag.children.filter((c): c is Node => c !== null);
    const before = kids[1]?.type === "strip_marker";
    const after = kids.length >= 2 && kids[kids.length - 2]?.type === "strip_marker" &&
      kids.length > 2;
    return { before, after: after && !(kids.length === 3 && before) };
  }
}

/**
 * tree-sitter's HCL grammar has no exponent numbers (`1e3`): each one is
 * swapped for a placeholder name of the same length, so every position in
 * the tree stays true, and read back as its number.
 */
function maskExponents(text: string): { masked: string; numbers: Map<string, number> } {
  const numbers = new Map<string, number>();
  if (!/\d[eE]/.test(text)) return { masked: text, numbers };
  let masked = text;
  let tokens;
  try {
    tokens = lexHcl(text);
  } catch {
    return { masked: text, numbers };
  }
  for (const t of tokens) {
    if (t.type !== "NumberLit" || !/[eE]/.test(t.text)) continue;
    const name = `\u01c3${String(numbers.size).padStart(t.text.length - 1, "_")}`;
    if (name.length !== t.text.length) continue;
    numbers.set(name, Number(t.text));
    masked = masked.slice(0, t.start) + name + masked.slice(t.end);
  }
  return { masked, numbers };
}

const noMarks: Marks = { before: false, after: false };

/** Quoted-string escapes: `\n`, `\"`, `\uXXXX`, ... plus `$${` and `%%{`. */
export function unescapeQuoted(raw: string): string {
  return raw.replace(
    /\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|\$\$\{|%%\{/gs,
    (m, esc: string | undefined) => {
      if (m === "$${") return "${";
      if (m === "%%{") return "%{";
      if (esc!.length > 1) return String.fromCodePoint(parseInt(esc!.slice(1), 16));
      return ESCAPES[esc!] ?? m;
    },
  );
}

/** Heredocs take no backslash escapes, only the template ones. */
function unescapeHeredoc(raw: string): string {
  return raw.replaceAll("$${", "${").replaceAll("%%{", "%{");
}

/** `<<-`: remove the smallest indentation of the body's lines from every line. */
function stripIndent(parts: TemplatePart[], body: string): TemplatePart[] {
  const lines = body.split("\n").filter((l) => l.trim() !== "");
  const indent = Math.min(...lines.map((l) => l.length - l.trimStart().length));
  if (!Number.isFinite(indent) || indent === 0) return parts;
  const re = new RegExp(`(^|\\n)[ \\t]{0,${indent}}`, "g");
  let atLineStart = true;
  return parts.map((p) => {
    if (p.kind !== "lit") {
      atLineStart = false;
      return p;
    }
    const text = atLineStart
      ? p.text.replace(re, "$1")
      : p.text.replace(new RegExp(`\\n[ \\t]{0,${indent}}`, "g"), "\n");
    atLineStart = false;
    return { kind: "lit", text };
  });
}
