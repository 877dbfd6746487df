/**
 * A syntax check of HCL native syntax on the tokens of `lexer.ts`: `fmt`
 * refuses a file Packer would refuse to parse, and points at the first
 * mistake. It recognises HCL's grammar (bodies, blocks, one-line blocks,
 * every expression form) but builds nothing: the evaluator has its own parser.
 */

/**
 * Deeper nesting than any configuration needs; past it the parser and the
 * evaluator, both recursive, would exhaust the stack on hostile input.
 */
const MAX_NESTING = 200;
import { HclSyntaxError, lexHcl, type Token, type TokenType } from "./lexer.ts";

const BINARY = new Set<TokenType>([
  "Or",
  "And",
  "EqualOp",
  "NotEqual",
  "LessThan",
  "GreaterThan",
  "LessThanEq",
  "GreaterThanEq",
  "Plus",
  "Minus",
  "Star",
  "Slash",
  "Percent",
]);

/** The first syntax error in `source`, or undefined when it is valid HCL. */
export function checkHclSyntax(source: string): HclSyntaxError | undefined {
  try {
    new Checker(lexHcl(source)).file();
    return undefined;
  } catch (err) {
    if (err instanceof HclSyntaxError) return err;
    throw err;
  }
}

class Checker {
  #pos = 0;
  /** Whether newlines are insignificant here (inside parentheses, brackets, `${}`). */
  #skipNewlines: boolean[] = [false];
  #blockDepth = 0;

  constructor(private readonly tokens: Token[]) {}

  file(): void {
    this.#body(false);
    const t = this.#peek();
    if (t.type !== "EOF") this.#fail(t, "Argument or block definition required", describe(t));
  }

  #body(inBlock: boolean): void {
    for (;;) {
      const t = this.#peek();
      if (t.type === "Newline") {
        this.#next();
        continue;
      }
      if (t.type === "EOF" || (inBlock && t.type === "CBrace")) return;
      if (t.type !== "Ident") {
        this.#fail(t, "Argument or block definition required", describe(t));
      }
      this.#next();
      if (this.#peek().type === "Equal") {
        this.#next();
        this.#expression();
        this.#endOfItem("argument");
        continue;
      }
      this.#block(t);
    }
  }

  #block(name: Token): void {
    if (this.#blockDepth >= MAX_NESTING) {
      this.#fail(name, "Too deeply nested", `blocks nest at most ${MAX_NESTING} levels deep`);
    }
    this.#blockDepth++;
    try {
      this.#blockContent(name);
    } finally {
      this.#blockDepth--;
    }
  }

  #blockContent(name: Token): void {
    for (;;) {
      const t = this.#peek();
      if (t.type === "Ident") this.#next();
      else if (t.type === "OQuote") this.#label();
      else break;
    }
    const open = this.#expect(
      "OBrace",
      "Invalid block definition",
      `a block needs "{" after its labels`,
    );
    if (this.#peek().type === "Newline") {
      this.#body(true);
    } else if (this.#peek().type !== "CBrace") {
      // A one-line block holds at most one argument.
      this.#expect("Ident", "Invalid single-argument block definition", "expected an argument");
      this.#expect("Equal", "Invalid single-argument block definition", `expected "="`);
      this.#expression();
    }
    const close = this.#peek();
    if (close.type !== "CBrace") {
      if (close.type === "EOF") {
        this.#fail(
          open,
          "Unclosed configuration block",
          `the block "${name.text}" has no closing "}"`,
        );
      }
      this.#fail(close, "Invalid single-argument block definition", `expected "}"`);
    }
    this.#next();
    this.#endOfItem("block definition");
  }

  #label(): void {
    this.#next();
    while (this.#peek().type === "QuotedLit") this.#next();
    const t = this.#peek();
    if (t.type !== "CQuote") this.#fail(t, "Invalid block label", "a label cannot use templates");
    this.#next();
  }

  #endOfItem(what: string): void {
    const t = this.#peek();
    if (t.type === "Newline") this.#next();
    else if (t.type !== "EOF") this.#fail(t, `Missing newline after ${what}`, describe(t));
  }

  #expression(): void {
    this.#binary();
    if (this.#peek().type === "Question") {
      this.#next();
      this.#expression();
      this.#expect("Colon", "Missing false expression in conditional", `expected ":"`);
      this.#expression();
    }
  }

  #binary(): void {
    this.#unary();
    while (BINARY.has(this.#peek().type)) {
      this.#next();
      this.#unary();
    }
  }

  #unary(): void {
    const t = this.#peek();
    if (t.type === "Minus" || t.type === "Bang") {
      this.#next();
      this.#unary();
      return;
    }
    this.#primary();
    this.#traversals();
  }

  #traversals(): void {
    for (;;) {
      const t = this.#peek();
      if (t.type === "Dot") {
        this.#next();
        const attr = this.#next();
        if (!["Ident", "NumberLit", "Star"].includes(attr.type)) {
          this.#fail(
            attr,
            "Invalid attribute name",
            `expected a name after ".", found ${describe(attr)}`,
          );
        }
      } else if (t.type === "OBrack") {
        this.#nested(true, () => {
          this.#next();
          if (this.#peek().type === "Star") this.#next();
          else this.#expression();
          this.#expect("CBrack", "Missing close bracket on index", `expected "]"`);
        });
      } else return;
    }
  }

  #primary(): void {
    const t = this.#peek();
    switch (t.type) {
      case "NumberLit":
        this.#next();
        return;
      case "Ident":
        this.#next();
        if (this.#peek().type === "OParen") this.#call();
        return;
      case "OParen":
        this.#nested(true, () => {
          this.#next();
          this.#expression();
          this.#expect("CParen", "Unbalanced parentheses", `expected ")"`);
        });
        return;
      case "OQuote":
      case "OHeredoc":
        this.#template(t.type === "OQuote" ? "CQuote" : "CHeredoc");
        return;
      case "OBrack":
        this.#nested(true, () => this.#tuple());
        return;
      case "OBrace":
        this.#nested(false, () => this.#object());
        return;
      default:
        this.#fail(
          t,
          "Invalid expression",
          `expected the start of an expression, found ${describe(t)}`,
        );
    }
  }

  #call(): void {
    this.#nested(true, () => {
      this.#next();
      while (this.#peek().type !== "CParen") {
        this.#expression();
        if (this.#peek().type === "Ellipsis") {
          this.#next();
          break;
        }
        if (this.#peek().type !== "Comma") break;
        this.#next();
      }
      this.#expect("CParen", "Missing argument separator", `expected "," or ")"`);
    });
  }

  #template(close: TokenType): void {
    this.#next();
    for (;;) {
      const t = this.#peek();
      if (t.type === close) {
        this.#next();
        return;
      }
      if (t.type === "QuotedLit" || t.type === "StringLit") this.#next();
      else if (t.type === "TemplateInterp" || t.type === "TemplateControl") {
        this.#nested(true, () => {
          this.#next();
          if (t.type === "TemplateInterp") this.#expression();
          else this.#directive();
          this.#expect(
            "TemplateSeqEnd",
            "Extra characters after interpolation expression",
            `expected "}"`,
          );
        });
      } else this.#fail(t, "Invalid template", describe(t));
    }
  }

  #directive(): void {
    const word = this.#expect(
      "Ident",
      "Invalid template directive",
      "expected if, else, endif, for or endfor",
    );
    if (word.text === "if") this.#expression();
    else if (word.text === "for") this.#forIntro(false);
    else if (!["else", "endif", "endfor"].includes(word.text)) {
      this.#fail(word, "Invalid template directive", `"${word.text}" is not a template directive`);
    }
  }

  /** After `for`: `k, v in collection` and, in brackets, the `:`. */
  #forIntro(colon = true): void {
    this.#expect("Ident", "Invalid for expression", "expected a variable name after for");
    if (this.#peek().type === "Comma") {
      this.#next();
      this.#expect("Ident", "Invalid for expression", "expected a second variable name");
    }
    const kw = this.#expect("Ident", "Invalid for expression", `expected "in"`);
    if (kw.text !== "in") this.#fail(kw, "Invalid for expression", `expected "in"`);
    this.#expression();
    if (colon) this.#expect("Colon", "Invalid for expression", `expected ":"`);
  }

  #isFor(): boolean {
    const t = this.#peek();
    return t.type === "Ident" && t.text === "for" && this.#peekAfter().type === "Ident";
  }

  #forTail(): void {
    const t = this.#peek();
    if (t.type === "Ident" && t.text === "if") {
      this.#next();
      this.#expression();
    }
  }

  #tuple(): void {
    this.#next();
    if (this.#isFor()) {
      this.#next();
      this.#forIntro();
      this.#expression();
      this.#forTail();
    } else {
      while (this.#peek().type !== "CBrack") {
        this.#expression();
        if (this.#peek().type !== "Comma") break;
        this.#next();
      }
    }
    this.#expect("CBrack", "Missing item separator", `expected "," or "]"`);
  }

  #object(): void {
    this.#next();
    this.#skipLines();
    if (this.#isFor()) {
      this.#nested(true, () => {
        this.#next();
        this.#forIntro();
        this.#expression();
        this.#expect("FatArrow", "Invalid for expression", `expected "=>"`);
        this.#expression();
        if (this.#peek().type === "Ellipsis") this.#next();
        this.#forTail();
      });
      this.#skipLines();
    } else {
      while (this.#peek().type !== "CBrace") {
        this.#nested(true, () => this.#expression());
        const sep = this.#next();
        if (sep.type !== "Equal" && sep.type !== "Colon") {
          this.#fail(
            sep,
            "Missing key/value separator",
            `expected "=" or ":", found ${describe(sep)}`,
          );
        }
        this.#expression();
        const after = this.#peek();
        if (after.type === "Comma") this.#next();
        else if (after.type !== "Newline" && after.type !== "CBrace") {
          this.#fail(after, "Missing attribute separator", `expected a newline or ","`);
        }
        this.#skipLines();
      }
    }
    this.#expect("CBrace", "Missing attribute separator", `expected "}"`);
  }

  #skipLines(): void {
    while (this.#peek().type === "Newline") this.#next();
  }

  /** Runs `parse` with newlines significant (false) or not (true) until it returns. */
  #nested(skipNewlines: boolean, parse: () => void): void {
    if (this.#skipNewlines.length >= MAX_NESTING) {
      this.#fail(
        this.#peek(),
        "Too deeply nested",
        `expressions nest at most ${MAX_NESTING} levels deep`,
      );
    }
    this.#skipNewlines.push(skipNewlines);
    try {
      parse();
    } finally {
      this.#skipNewlines.pop();
    }
  }

  #expect(type: TokenType, summary: string, detail: string): Token {
    const t = this.#peek();
    if (t.type !== type) this.#fail(t, summary, `${detail}, found ${describe(t)}`);
    return this.#next();
  }

  /** The next token that matters: comments are blanks, and `#`/`//` comments end a line. */
  #peek(): Token {
    const skip = this.#skipNewlines[this.#skipNewlines.length - 1];
    for (;;) {
      const t = this.tokens[this.#pos];
      if (t.type === "Invalid") {
        this.#fail(t, "Invalid character", `${JSON.stringify(t.text)} is not allowed here`);
      }
      const lineEnd = t.type === "Newline" || (t.type === "Comment" && t.text.endsWith("\n"));
      if ((skip && lineEnd) || (t.type === "Comment" && !lineEnd)) {
        this.#pos++;
        continue;
      }
      return lineEnd ? { ...t, type: "Newline" } : t;
    }
  }

  #peekAfter(): Token {
    const saved = this.#pos;
    this.#next();
    const t = this.#peek();
    this.#pos = saved;
    return t;
  }

  #next(): Token {
    const t = this.#peek();
    this.#pos++;
    return t;
  }

  #fail(t: Token, summary: string, detail: string): never {
    throw new HclSyntaxError(`${summary}: ${detail}.`, t.line, t.column);
  }
}

function describe(t: Token): string {
  switch (t.type) {
    case "EOF":
      return "the end of the file";
    case "Newline":
      return "a newline";
    case "Comment":
      return "a comment";
    default:
      return JSON.stringify(t.text);
  }
}
