/**
 * Parses the emulated PowerShell subset into statements. Anything the
 * grammar below does not cover raises UnsupportedError naming the construct.
 *
 *   statement := "if" "(" statement ")" block ["else" block]
 *              | "exit" [expr] | $var "=" expr
 *              | "." primary | "&" (block | primary)
 *              | word primary*            (a command and its arguments)
 *              | expr                     (its value is output)
 *   expr      := primary ["-f" primary ("," primary)*]
 *   primary   := 'str' | "str" | $var | number | word | "(" statement ")"
 *              | [Type]::Member["()"] | block
 */
import { lex, type Token } from "./windows_ps_lexer.ts";
import { UnsupportedError } from "./windows_machine.ts";

/** An expression. */
export type Expr =
  | { t: "str"; quote: "'" | '"'; value: string }
  | { t: "var"; name: string }
  | { t: "num"; value: number }
  | { t: "word"; value: string }
  | { t: "paren"; body: Stmt }
  | { t: "static"; type: string; member: string }
  | { t: "format"; format: Expr; args: Expr[] }
  | { t: "block"; body: Stmt[] };

/** Where a statement came from (for Set-PsDebug traces). */
export interface Source {
  line: number;
  text: string;
}

/** A statement. */
export type Stmt =
  & { src: Source }
  & (
    | { t: "if"; cond: Stmt; then: Stmt[]; else?: Stmt[] }
    | { t: "exit"; value?: Expr }
    | { t: "assign"; name: string; value: Expr }
    | { t: "dot"; target: Expr }
    | { t: "call"; target: Expr }
    | { t: "command"; name: string; args: Expr[] }
    | { t: "expr"; value: Expr }
  );

type Bare<T> = T extends unknown ? Omit<T, "src"> : never;

const TERMINATORS = new Set([";", "\n", "}", ")"]);

/** Parses a whole script. */
export function parseScript(src: string): Stmt[] {
  return new Parser(src).script();
}

class Parser {
  #tokens: Token[];
  #i = 0;

  constructor(readonly src: string) {
    this.#tokens = lex(src);
  }

  script(): Stmt[] {
    const body = this.#block();
    const extra = this.#peek();
    if (extra) throw new UnsupportedError(`unexpected "${this.#text(extra)}"`);
    return body;
  }

  #peek(): Token | undefined {
    return this.#tokens[this.#i];
  }

  #isOp(value: string, t = this.#peek()): boolean {
    return t?.kind === "op" && t.value === value;
  }

  #isWord(value: string, t = this.#peek()): boolean {
    return t?.kind === "word" && t.value.toLowerCase() === value;
  }

  #expect(value: string): void {
    if (!this.#isOp(value)) {
      const t = this.#peek();
      throw new UnsupportedError(`expected "${value}" but found "${t ? this.#text(t) : "end"}"`);
    }
    this.#i++;
  }

  #text(t: Token): string {
    return this.src.slice(t.at, t.end);
  }

  #skipNewlines(): void {
    while (this.#isOp("\n")) this.#i++;
  }

  #atEnd(): boolean {
    const t = this.#peek();
    return t === undefined || (t.kind === "op" && TERMINATORS.has(t.value));
  }

  /** Statements up to a closing `}` (not consumed) or the end. */
  #block(): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      while (this.#isOp(";") || this.#isOp("\n")) this.#i++;
      const t = this.#peek();
      if (t === undefined || this.#isOp("}") || this.#isOp(")")) return out;
      out.push(this.#statement());
      if (!this.#atEnd()) {
        const next = this.#peek()!;
        if (this.#isOp("|", next)) throw new UnsupportedError("pipelines (|)");
        throw new UnsupportedError(`unexpected "${this.#text(next)}"`);
      }
    }
  }

  #braced(): Stmt[] {
    this.#skipNewlines();
    this.#expect("{");
    const body = this.#block();
    this.#expect("}");
    return body;
  }

  #statement(): Stmt {
    const first = this.#peek()!;
    const stmt = this.#bareStatement();
    const last = this.#tokens[this.#i - 1];
    return { ...stmt, src: { line: first.line, text: this.src.slice(first.at, last.end) } } as Stmt;
  }

  #bareStatement(): Bare<Stmt> {
    const t = this.#peek()!;
    if (this.#isWord("if")) {
      this.#i++;
      this.#expect("(");
      const cond = this.#statement();
      this.#expect(")");
      const then = this.#braced();
      const save = this.#i;
      this.#skipNewlines();
      if (this.#isWord("elseif")) throw new UnsupportedError("elseif");
      if (this.#isWord("else")) {
        this.#i++;
        return { t: "if", cond, then, else: this.#braced() };
      }
      this.#i = save;
      return { t: "if", cond, then };
    }
    if (this.#isWord("exit")) {
      this.#i++;
      return this.#atEnd() ? { t: "exit" } : { t: "exit", value: this.#expr() };
    }
    if (t.kind === "var" && this.#isOp("=", this.#tokens[this.#i + 1])) {
      this.#i += 2;
      return { t: "assign", name: t.value, value: this.#expr() };
    }
    if (this.#isOp(".")) {
      this.#i++;
      return { t: "dot", target: this.#primary() };
    }
    if (this.#isOp("&")) {
      this.#i++;
      return { t: "call", target: this.#primary() };
    }
    if (t.kind === "word" && !t.value.startsWith("-")) {
      this.#i++;
      const args: Expr[] = [];
      while (!this.#atEnd() && !this.#isOp("|")) args.push(this.#primary());
      return { t: "command", name: t.value, args };
    }
    return { t: "expr", value: this.#expr() };
  }

  #expr(): Expr {
    const left = this.#primary();
    if (this.#isWord("-f")) {
      this.#i++;
      const args = [this.#primary()];
      while (this.#isOp(",")) {
        this.#i++;
        args.push(this.#primary());
      }
      return { t: "format", format: left, args };
    }
    const t = this.#peek();
    if (t?.kind === "word" && t.value.startsWith("-")) {
      throw new UnsupportedError(`the operator "${t.value}"`);
    }
    return left;
  }

  #primary(): Expr {
    const t = this.#peek();
    if (t === undefined) throw new UnsupportedError("a missing value at the end");
    this.#i++;
    switch (t.kind) {
      case "str":
        return { t: "str", quote: t.quote, value: t.value };
      case "var":
        return { t: "var", name: t.value };
      case "num":
        return { t: "num", value: t.value };
      case "word":
        return { t: "word", value: t.value };
      case "type": {
        this.#expect("::");
        const member = this.#peek();
        if (member?.kind !== "word") throw new UnsupportedError(`[${t.value}]:: without a member`);
        this.#i++;
        if (this.#isOp("(")) {
          this.#i++;
          this.#expect(")");
        }
        return { t: "static", type: t.value, member: member.value };
      }
      case "op":
        if (t.value === "(") {
          const body = this.#statement();
          this.#expect(")");
          return { t: "paren", body };
        }
        if (t.value === "{") {
          const body = this.#block();
          this.#expect("}");
          return { t: "block", body };
        }
    }
    throw new UnsupportedError(`unexpected "${this.#text(t)}"`);
  }
}
