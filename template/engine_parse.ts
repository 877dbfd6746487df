/**
 * Lexer and parser for the Go text/template syntax Packer templates use:
 * `{{ fn arg "quoted" `raw` | fn2 }}`, `.Field` access, `$var := ...`,
 * parenthesised pipelines, `{{- -}}` trim markers, `{{/* comments *\/}}` and
 * `if`/`with`/`range`/`else`/`end` blocks. Produces a small tree the
 * executor in engine.ts walks.
 */

import { MAX_ENGINE_NESTING } from "./limits.ts";

/** A template syntax or execution error, worded like Go's `template: root:L:C: ...`. */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineError";
  }
}

/** One operand of a command. */
export type Operand =
  | { kind: "ident"; name: string; pos: number } // function name or nil/true/false
  | { kind: "field"; path: string[]; pos: number } // .A.B ("." alone: path [])
  | { kind: "var"; name: string; path: string[]; pos: number } // $x.A
  | { kind: "string"; value: string; pos: number }
  | { kind: "number"; value: number; isInt: boolean; text: string; pos: number }
  | { kind: "bool"; value: boolean; pos: number }
  | { kind: "nil"; pos: number }
  | { kind: "pipe"; pipe: Pipeline; pos: number };

/** `fn a b` or a lone operand. */
export interface Command {
  args: Operand[];
  pos: number;
}

/** `$x := cmd | cmd`. */
export interface Pipeline {
  decl?: string;
  commands: Command[];
  pos: number;
  /** The source text of the action, for error messages. */
  text: string;
}

/** A node of the parsed tree. */
export type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: Pipeline }
  | {
    kind: "if" | "with" | "range";
    pipe: Pipeline;
    list: Node[];
    elseList: Node[];
    /** Written as `{{else if}}`: the executor walks such a chain in a loop, not by recursion. */
    chained?: true;
  };

type Token =
  | { t: "space" | "pipe" | "lparen" | "rparen" | "declare" | "assign" | "eof"; pos: number }
  | { t: "ident" | "field" | "var" | "string" | "number" | "char"; v: string; pos: number };

/** Line and column (1-based) of an offset, for Go-style messages. */
export function lineCol(src: string, pos: number): [number, number] {
  let line = 1;
  let col = 0;
  for (let i = 0; i < pos && i < src.length; i++) {
    if (src[i] === "\n") {
      line++;
      col = 0;
    } else col++;
  }
  return [line, col];
}

const GO_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

/** Decodes a Go interpreted string literal body (`\n`, `\x41`, `\u00e9`, `\101`). */
function unquoteGo(body: string, fail: (m: string) => never): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) fail("unterminated quoted string");
    if (Object.hasOwn(GO_ESCAPES, e)) {
      out += GO_ESCAPES[e];
    } else if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) fail(`invalid syntax in "${body}"`);
      const code = parseInt(hex, 16);
      if (e === "x") out += String.fromCharCode(code);
      else {
        if (code > 0x10ffff || (code >= 0xd800 && code < 0xe000)) {
          fail(`invalid syntax in "${body}"`);
        }
        out += String.fromCodePoint(code);
      }
      i += n;
    } else if (e >= "0" && e <= "7") {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) fail(`invalid syntax in "${body}"`);
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else {
      fail(`invalid syntax in "${body}"`);
    }
  }
  return out;
}

const isSpace = (c: string) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isAlnum = (c: string) => /[\p{L}\p{N}_]/u.test(c);

/** Splits one action's inside into tokens. */
function lexAction(src: string, start: number, end: number, fail: (m: string) => never): Token[] {
  const tokens: Token[] = [];
  let i = start;
  while (i < end) {
    const c = src[i];
    const pos = i;
    if (isSpace(c)) {
      while (i < end && isSpace(src[i])) i++;
      tokens.push({ t: "space", pos });
    } else if (c === "|") {
      i++;
      tokens.push({ t: "pipe", pos });
    } else if (c === "(") {
      i++;
      tokens.push({ t: "lparen", pos });
    } else if (c === ")") {
      i++;
      tokens.push({ t: "rparen", pos });
    } else if (c === ":" && src[i + 1] === "=") {
      i += 2;
      tokens.push({ t: "declare", pos });
    } else if (c === "=") {
      i++;
      tokens.push({ t: "assign", pos });
    } else if (c === "`") {
      const close = src.indexOf("`", i + 1);
      if (close < 0 || close >= end) fail("unterminated raw quoted string");
      tokens.push({ t: "string", v: src.slice(i + 1, close), pos });
      i = close + 1;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < end && src[j] !== c) {
        if (src[j] === "\\") j++;
        if (src[j] === "\n") fail("unterminated quoted string");
        j++;
      }
      if (j >= end) {
        fail(c === '"' ? "unterminated quoted string" : "unterminated character constant");
      }
      const body = unquoteGo(src.slice(i + 1, j), fail);
      if (c === "'") {
        if ([...body].length !== 1) fail(`malformed character constant: ${src.slice(i, j + 1)}`);
        tokens.push({ t: "char", v: body, pos });
      } else tokens.push({ t: "string", v: body, pos });
      i = j + 1;
    } else if (c === ".") {
      let j = i + 1;
      if (j < end && src[j] >= "0" && src[j] <= "9") {
        while (j < end && /[0-9eE_+\-.]/.test(src[j])) j++;
        tokens.push({ t: "number", v: src.slice(i, j), pos });
      } else {
        while (j < end && (isAlnum(src[j]) || src[j] === ".")) j++;
        tokens.push({ t: "field", v: src.slice(i, j), pos });
      }
      i = j;
    } else if (c === "$") {
      let j = i + 1;
      while (j < end && (isAlnum(src[j]) || src[j] === ".")) j++;
      tokens.push({ t: "var", v: src.slice(i, j), pos });
      i = j;
    } else if (/[0-9+\-]/.test(c)) {
      let j = i + 1;
      while (j < end && /[0-9a-zA-Z_.+\-]/.test(src[j])) {
        if ((src[j] === "+" || src[j] === "-") && !/[eEpP]/.test(src[j - 1])) break;
        j++;
      }
      tokens.push({ t: "number", v: src.slice(i, j), pos });
      i = j;
    } else if (isAlnum(c)) {
      let j = i;
      while (j < end && isAlnum(src[j])) j++;
      tokens.push({ t: "ident", v: src.slice(i, j), pos });
      i = j;
    } else {
      fail(`unexpected "${c}" in command`);
    }
  }
  tokens.push({ t: "eof", pos: end });
  return tokens;
}

function parseNumber(text: string, fail: (m: string) => never): Operand {
  const clean = text.replace(/_/g, "");
  let value: number;
  let isInt = true;
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(clean)) value = parseInt(clean, 16);
  else if (/^[+-]?0[bB][01]+$/.test(clean)) {
    value = parseInt(clean.replace(/0[bB]/, ""), 2);
  } else if (/^[+-]?0[oO]?[0-7]+$/.test(clean)) {
    value = parseInt(clean.replace(/0[oO]?/, ""), 8);
  } else if (/^[+-]?[0-9]+$/.test(clean)) value = parseInt(clean, 10);
  else if (/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(clean)) {
    value = Number(clean);
    isInt = Number.isInteger(value) && !/[.eE]/.test(clean);
  } else fail(`bad number syntax: "${text}"`);
  if (!Number.isFinite(value!)) fail(`illegal number syntax: "${text}"`);
  return { kind: "number", value, isInt, text, pos: 0 };
}

/** Parses the tokens of one action into a pipeline. */
class ActionParser {
  private i = 0;
  private parens = 0;
  constructor(
    private tokens: Token[],
    private fail: (m: string) => never,
    private text: string,
  ) {}

  private peek(): Token {
    return this.tokens[this.i];
  }
  private next(): Token {
    return this.tokens[this.i++];
  }
  private skipSpace() {
    while (this.peek().t === "space") this.i++;
  }

  /** The whole action must be one pipeline. */
  parseTop(context: string): Pipeline {
    const pipe = this.pipeline(context);
    this.skipSpace();
    const tok = this.peek();
    if (tok.t === "rparen") this.fail(`unexpected ")" in ${context}`);
    if (tok.t !== "eof") this.fail(`unexpected token in ${context}`);
    return pipe;
  }

  pipeline(context: string): Pipeline {
    this.skipSpace();
    const start = this.peek().pos;
    let decl: string | undefined;
    const save = this.i;
    const first = this.peek();
    if (first.t === "var") {
      this.next();
      this.skipSpace();
      const op = this.peek();
      if (op.t === "declare" || op.t === "assign") {
        this.next();
        decl = first.v;
      } else this.i = save;
    }
    const commands: Command[] = [];
    for (;;) {
      this.skipSpace();
      const tok = this.peek();
      if (tok.t === "eof" || tok.t === "rparen") break;
      if (tok.t === "pipe") {
        if (commands.length === 0) this.fail(`unexpected "|" in command`);
        this.next();
        this.skipSpace();
        const after = this.peek();
        if (after.t === "eof" || after.t === "rparen" || after.t === "pipe") {
          this.fail(`missing command after "|" in ${context}`);
        }
        continue;
      }
      commands.push(this.command());
    }
    if (commands.length === 0) this.fail(`missing value for ${context}`);
    return { decl, commands, pos: start, text: this.text };
  }

  private command(): Command {
    const args: Operand[] = [];
    const pos = this.peek().pos;
    for (;;) {
      this.skipSpace();
      const tok = this.peek();
      if (tok.t === "eof" || tok.t === "rparen" || tok.t === "pipe") break;
      args.push(this.operand());
      const after = this.peek();
      if (after.t !== "space" && after.t !== "eof" && after.t !== "rparen" && after.t !== "pipe") {
        this.fail(`unexpected token in operand`);
      }
    }
    return { args, pos };
  }

  private operand(): Operand {
    const tok = this.next();
    switch (tok.t) {
      case "ident":
        if (tok.v === "true" || tok.v === "false") {
          return { kind: "bool", value: tok.v === "true", pos: tok.pos };
        }
        if (tok.v === "nil") return { kind: "nil", pos: tok.pos };
        return { kind: "ident", name: tok.v, pos: tok.pos };
      case "field":
        return { kind: "field", path: tok.v.split(".").filter((s) => s !== ""), pos: tok.pos };
      case "var": {
        const [name, ...path] = tok.v.split(".");
        return { kind: "var", name, path, pos: tok.pos };
      }
      case "string":
        return { kind: "string", value: tok.v, pos: tok.pos };
      case "char":
        return {
          kind: "number",
          value: tok.v.codePointAt(0)!,
          isInt: true,
          text: tok.v,
          pos: tok.pos,
        };
      case "number":
        return { ...parseNumber(tok.v, this.fail), pos: tok.pos };
      case "lparen": {
        // Each level costs the parser and the executor stack frames: bound it.
        if (++this.parens > MAX_ENGINE_NESTING) {
          this.fail(
            `max expression depth exceeded: parentheses nest more than ${MAX_ENGINE_NESTING} ` +
              `levels (kiln's limit)`,
          );
        }
        const pipe = this.pipeline("parenthesized pipeline");
        this.skipSpace();
        if (this.next().t !== "rparen") this.fail("unclosed left paren");
        this.parens--;
        return { kind: "pipe", pipe, pos: tok.pos };
      }
      case "rparen":
        this.fail(`unexpected ")"`);
        break;
      default:
        this.fail(`unexpected "${tok.t}" in operand`);
    }
    throw new EngineError("unreachable");
  }
}

/** Parses a whole template string into nodes. Throws EngineError on syntax errors. */
export function parseTemplateText(src: string): Node[] {
  const root: Node[] = [];
  const stack: { node: Extract<Node, { list: Node[] }>; inElse: boolean; pos: number }[] = [];
  const current = () => {
    const top = stack[stack.length - 1];
    if (!top) return root;
    return top.inElse ? top.node.elseList : top.node.list;
  };
  let i = 0;
  let trimNext = false;
  // Blocks open, not counting `else if` links (their chain runs in a loop).
  let depth = 0;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, "");
    trimNext = false;
    if (open < 0) {
      if (text) current().push({ kind: "text", text });
      break;
    }
    let start = open + 2;
    if (src[start] === "-" && isSpace(src[start + 1] ?? "")) {
      text = text.replace(/[ \t\r\n]+$/, "");
      start += 2;
    }
    if (text) current().push({ kind: "text", text });
    // The line is counted only on failure: counting it for every action is
    // quadratic in a string with many actions.
    const fail = (m: string): never => {
      throw new EngineError(`template: root:${lineCol(src, open)[0]}: ${m}`);
    };
    // Comments end at the first "*/}}" and may not contain actions.
    const afterSpace = src.slice(start).match(/^\s*/)![0].length;
    if (src.startsWith("/*", start + afterSpace)) {
      const close = src.indexOf("*/", start + afterSpace + 2);
      if (close < 0) fail("unclosed comment");
      let end = close + 2;
      const trail = src.slice(end).match(/^\s*-?\s*\}\}/);
      if (!trail) fail("comment ends before closing delimiter");
      if (trail![0].includes("-")) trimNext = true;
      end += trail![0].length;
      i = end;
      continue;
    }
    // Find the closing delimiter outside quoted strings.
    let j = start;
    let close = -1;
    while (j < src.length) {
      const c = src[j];
      if (c === "`") {
        const e = src.indexOf("`", j + 1);
        if (e < 0) fail("unterminated raw quoted string");
        j = e + 1;
      } else if (c === '"' || c === "'") {
        let k = j + 1;
        while (k < src.length && src[k] !== c && src[k] !== "\n") k += src[k] === "\\" ? 2 : 1;
        if (k >= src.length || src[k] === "\n") {
          fail(c === '"' ? "unterminated quoted string" : "unterminated character constant");
        }
        j = k + 1;
      } else if (c === "}" && src[j + 1] === "}") {
        close = j;
        break;
      } else j++;
    }
    if (close < 0) fail("unclosed action");
    let end = close;
    if (src[close - 1] === "-" && isSpace(src[close - 2] ?? "")) {
      end = close - 1;
      trimNext = true;
    }
    const body = src.slice(start, end);
    const tokens = lexAction(src, start, end, fail);
    const nonSpace = tokens.filter((t) => t.t !== "space" && t.t !== "eof");
    const head = nonSpace[0];
    if (!head) fail("missing value for command");
    const keyword = head.t === "ident" ? head.v : undefined;
    const parser = new ActionParser(tokens.slice(tokens.indexOf(head) + 1), fail, body.trim());
    if (keyword === "if" || keyword === "with" || keyword === "range") {
      if (++depth > MAX_ENGINE_NESTING) {
        fail(
          `{{if}}/{{with}}/{{range}} blocks nest more than ${MAX_ENGINE_NESTING} levels ` +
            `(kiln's limit)`,
        );
      }
      const pipe = parser.parseTop(keyword);
      const node: Extract<Node, { list: Node[] }> = { kind: keyword, pipe, list: [], elseList: [] };
      current().push(node);
      stack.push({ node, inElse: false, pos: open });
    } else if (keyword === "else") {
      const top = stack[stack.length - 1];
      if (!top || top.inElse) fail("unexpected {{else}}");
      const rest = nonSpace.slice(1);
      if (rest.length > 1 && rest[0].t === "ident" && (rest[0] as { v: string }).v === "if") {
        // `else if` is sugar for else { if ... end } closed by the same {{end}}.
        const inner = new ActionParser(
          tokens.slice(tokens.indexOf(rest[0]) + 1),
          fail,
          body.trim(),
        ).parseTop("if");
        top!.inElse = true;
        const node = {
          kind: "if" as const,
          pipe: inner,
          list: [] as Node[],
          elseList: [],
          chained: true as const,
        };
        current().push(node);
        stack.push({ node, inElse: false, pos: -1 });
      } else {
        if (rest.length > 0) fail("unexpected token in else");
        top!.inElse = true;
      }
    } else if (keyword === "end") {
      if (nonSpace.length > 1) fail("unexpected token in end");
      if (stack.length === 0) fail("unexpected {{end}}");
      // Pop the chained `else if` frames together with their opener.
      while (stack.length > 0 && stack.pop()!.pos < 0);
      depth--;
    } else if (
      keyword === "define" || keyword === "template" || keyword === "block" ||
      keyword === "break" || keyword === "continue"
    ) {
      fail(`"${keyword}" is not supported in Packer templates`);
    } else {
      const pipe = new ActionParser(tokens, fail, body.trim()).parseTop("command");
      current().push({ kind: "action", pipe });
    }
    i = close + 2;
  }
  if (stack.length > 0) {
    const [line] = lineCol(src, stack[stack.length - 1].pos);
    throw new EngineError(`template: root:${line}: unexpected EOF`);
  }
  return root;
}

/**
 * Every operand of every pipeline in `nodes`, in source order, nested
 * parentheses and blocks included. Iterative, so a long `else if` chain
 * costs no stack.
 */
export function* operandsOf(nodes: Node[]): Generator<Operand> {
  const stack: (Node | Operand)[] = [...nodes].reverse();
  const pushPipe = (p: Pipeline) => {
    for (let c = p.commands.length - 1; c >= 0; c--) {
      const args = p.commands[c].args;
      for (let a = args.length - 1; a >= 0; a--) stack.push(args[a]);
    }
  };
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.kind === "text") continue;
    if (item.kind === "action") pushPipe(item.pipe);
    else if ("list" in item) {
      for (let k = item.elseList.length - 1; k >= 0; k--) stack.push(item.elseList[k]);
      for (let k = item.list.length - 1; k >= 0; k--) stack.push(item.list[k]);
      pushPipe(item.pipe);
    } else {
      yield item;
      if (item.kind === "pipe") pushPipe(item.pipe);
    }
  }
}
