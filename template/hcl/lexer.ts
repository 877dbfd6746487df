/**
 * An HCL native-syntax tokenizer that splits source the way HCL's own
 * scanner (hclsyntax) does, because `fmt` must reproduce `packer fmt`
 * byte for byte and hclwrite formats token by token: where a token starts
 * and ends decides every space the formatter writes.
 *
 * Every byte of the input belongs to a token or to the blanks between two
 * tokens, so `text` slices joined with their gaps give the source back.
 */

/** Token kinds, named after hclsyntax's token types. */
export type TokenType =
  | "Ident"
  | "NumberLit"
  | "Comment"
  | "Newline"
  | "OQuote"
  | "CQuote"
  | "QuotedLit"
  | "OHeredoc"
  | "CHeredoc"
  | "StringLit"
  | "TemplateInterp"
  | "TemplateControl"
  | "TemplateSeqEnd"
  | "OBrace"
  | "CBrace"
  | "OBrack"
  | "CBrack"
  | "OParen"
  | "CParen"
  | "Dot"
  | "Comma"
  | "Star"
  | "Slash"
  | "Percent"
  | "Plus"
  | "Minus"
  | "Equal"
  | "LessThan"
  | "GreaterThan"
  | "Bang"
  | "Question"
  | "Colon"
  | "EqualOp"
  | "NotEqual"
  | "GreaterThanEq"
  | "LessThanEq"
  | "And"
  | "Or"
  | "Ellipsis"
  | "FatArrow"
  /** A character HCL never allows outside a string (`&`, `;`, a lone `\r`, ...). */
  | "Invalid"
  | "EOF";

/** One token: its kind, its text and where it starts (1-based line and column). */
export interface Token {
  type: TokenType;
  text: string;
  /** Offset of the first character in the source (UTF-16 units). */
  start: number;
  /** Offset just past the last character. */
  end: number;
  line: number;
  column: number;
}

/** A syntax error with its position (1-based line and column). */
export class HclSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
    this.name = "HclSyntaxError";
  }
}

const SINGLE: Record<string, TokenType> = {
  "[": "OBrack",
  "]": "CBrack",
  "(": "OParen",
  ")": "CParen",
  ".": "Dot",
  ",": "Comma",
  "*": "Star",
  "/": "Slash",
  "%": "Percent",
  "+": "Plus",
  "-": "Minus",
  "=": "Equal",
  "<": "LessThan",
  ">": "GreaterThan",
  "!": "Bang",
  "?": "Question",
  ":": "Colon",
};

const DOUBLE: Record<string, TokenType> = {
  "==": "EqualOp",
  "!=": "NotEqual",
  ">=": "GreaterThanEq",
  "<=": "LessThanEq",
  "&&": "And",
  "||": "Or",
  "=>": "FatArrow",
};

const IDENT = /[\p{ID_Start}_][\p{ID_Continue}-]*/uy;
const HEREDOC_OPEN = /<<(-?)([\p{ID_Start}_][\p{ID_Continue}-]*)\r?\n/uy;

/** A template being scanned: a quoted string or a heredoc (with its end marker). */
type Frame =
  | { kind: "main"; braceBase: number; openedAt: number }
  | { kind: "quoted"; openedAt: number }
  | { kind: "heredoc"; marker: string; startOfLine: boolean; openedAt: number };

/**
 * Splits HCL source into tokens, ending with an EOF token. Throws
 * HclSyntaxError for what no later stage could make sense of: an unclosed
 * string, heredoc or comment, or a newline inside a quoted string. Other
 * mistakes (a stray `&`) come back as "Invalid" tokens.
 */
export function lexHcl(source: string): Token[] {
  const tokens: Token[] = [];
  // A byte order mark is not part of the configuration (hclsyntax drops it too).
  let pos = source.startsWith("\uFEFF") ? 1 : 0;
  let line = 1;
  let lineStart = pos;
  const stack: Frame[] = [{ kind: "main", braceBase: -1, openedAt: 0 }];
  let braces = 0;

  const emit = (type: TokenType, end: number) => {
    const text = source.slice(pos, end);
    tokens.push({ type, text, start: pos, end, line, column: pos - lineStart + 1 });
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) {
      line++;
      lineStart = pos + i + 1;
    }
    pos = end;
  };
  const fail = (message: string, at = pos): never => {
    // Positions count from the start of the line the error is on.
    const before = source.slice(0, at);
    const l = before.split("\n").length;
    throw new HclSyntaxError(message, l, at - (before.lastIndexOf("\n") + 1) + 1);
  };

  while (pos < source.length) {
    const frame = stack[stack.length - 1];
    if (frame.kind === "main") {
      const c = source[pos];
      if (c === " " || c === "\t") {
        while (source[pos] === " " || source[pos] === "\t") pos++;
        continue;
      }
      if (c >= "0" && c <= "9") {
        emit("NumberLit", numberEnd(source, pos));
        continue;
      }
      IDENT.lastIndex = pos;
      const ident = IDENT.exec(source);
      if (ident) {
        emit("Ident", pos + ident[0].length);
        continue;
      }
      if (c === "#" || source.startsWith("//", pos)) {
        const nl = source.indexOf("\n", pos);
        emit("Comment", nl === -1 ? source.length : nl + 1);
        continue;
      }
      if (source.startsWith("/*", pos)) {
        const close = source.indexOf("*/", pos + 2);
        if (close === -1) fail("Unterminated comment: this /* has no closing */.");
        emit("Comment", close + 2);
        continue;
      }
      if (c === "\n" || source.startsWith("\r\n", pos)) {
        emit("Newline", pos + (c === "\n" ? 1 : 2));
        continue;
      }
      if (source.startsWith("...", pos)) {
        emit("Ellipsis", pos + 3);
        continue;
      }
      const two = source.slice(pos, pos + 2);
      if (Object.hasOwn(DOUBLE, two)) {
        emit(DOUBLE[two], pos + 2);
        continue;
      }
      if (c === "{") {
        braces++;
        emit("OBrace", pos + 1);
        continue;
      }
      if (c === "}" || two === "~}") {
        const closesTemplate = frame.braceBase === braces;
        braces--;
        emit(
          closesTemplate || two === "~}" ? "TemplateSeqEnd" : "CBrace",
          pos + (c === "}" ? 1 : 2),
        );
        if (closesTemplate) stack.pop();
        continue;
      }
      if (c === '"') {
        stack.push({ kind: "quoted", openedAt: pos });
        emit("OQuote", pos + 1);
        continue;
      }
      HEREDOC_OPEN.lastIndex = pos;
      const heredoc = HEREDOC_OPEN.exec(source);
      if (heredoc) {
        stack.push({ kind: "heredoc", marker: heredoc[2], startOfLine: true, openedAt: pos });
        emit("OHeredoc", pos + heredoc[0].length);
        continue;
      }
      if (Object.hasOwn(SINGLE, c)) {
        emit(SINGLE[c], pos + 1);
        continue;
      }
      emit("Invalid", pos + (source.codePointAt(pos)! > 0xffff ? 2 : 1));
      continue;
    }

    // Inside a template: an interpolation or directive opens a nested expression.
    const seq = /^[$%]\{~?/.exec(source.slice(pos, pos + 3));
    if (seq) {
      braces++;
      stack.push({ kind: "main", braceBase: braces, openedAt: pos });
      emit(seq[0][0] === "$" ? "TemplateInterp" : "TemplateControl", pos + seq[0].length);
      if (frame.kind === "heredoc") frame.startOfLine = false;
      continue;
    }
    if (frame.kind === "quoted") {
      const c = source[pos];
      if (c === '"') {
        emit("CQuote", pos + 1);
        stack.pop();
        continue;
      }
      if (c === "\n" || c === "\r") {
        fail("Unterminated template string: a quoted string cannot contain a line break.");
      }
      emit("QuotedLit", quotedLiteralEnd(source, pos));
      continue;
    }
    // A heredoc line, up to its newline or the next template sequence.
    const end = heredocLiteralEnd(source, pos);
    if (source[end] === "\n" || source.startsWith("\r\n", end)) {
      const eol = end + (source[end] === "\n" ? 1 : 2);
      if (frame.startOfLine && source.slice(pos, end).trim() === frame.marker) {
        // The closing marker keeps its indentation; its newline is a token of its own.
        emit("CHeredoc", end);
        emit("Newline", eol);
        stack.pop();
        continue;
      }
      frame.startOfLine = true;
      emit("StringLit", eol);
      continue;
    }
    if (end === source.length && end === pos) break;
    frame.startOfLine = false;
    emit("StringLit", end);
  }

  const open = stack[stack.length - 1];
  if (open.kind === "quoted") {
    fail("Unterminated template string: this string has no closing quote.", open.openedAt);
  }
  if (open.kind === "heredoc") {
    fail(
      `Unterminated heredoc: no line "${open.marker}" closes it (it must end with a newline).`,
      open.openedAt,
    );
  }
  if (stack.length > 1) {
    fail("Unterminated template sequence: this ${ or %{ has no closing }.", open.openedAt);
  }
  tokens.push({
    type: "EOF",
    text: "",
    start: source.length,
    end: source.length,
    line,
    column: source.length - lineStart + 1,
  });
  return tokens;
}

/** The end of a number literal starting at `pos` (digits, dots, exponents; never a trailing dot). */
function numberEnd(source: string, pos: number): number {
  let end = pos + 1;
  let i = end;
  for (;;) {
    const c = source[i];
    if (c >= "0" && c <= "9") i++;
    else if (c === ".") {
      i++;
      continue;
    } else if (c === "e" || c === "E") {
      const m = /^[eE][+-]?[0-9]/.exec(source.slice(i, i + 3));
      if (!m) break;
      i += m[0].length;
    } else break;
    end = i;
  }
  return end;
}

/** The end of a run of literal text in a quoted string (escapes included). */
function quotedLiteralEnd(source: string, pos: number): number {
  let i = pos;
  while (i < source.length) {
    const c = source[i];
    if (c === '"' || c === "\n" || c === "\r") break;
    if (c === "\\") {
      i += /[^\r\n]/.test(source[i + 1] ?? "\n") ? 2 : 1;
      continue;
    }
    if ((c === "$" || c === "%") && source[i + 1] === "{") break;
    // $${ and %%{ are escapes: literal text, not a template sequence.
    i += (c === "$" || c === "%") && source[i + 1] === c && source[i + 2] === "{" ? 3 : 1;
  }
  return i;
}

/** The end of literal text in a heredoc line: before its newline or the next `${`/`%{`. */
function heredocLiteralEnd(source: string, pos: number): number {
  let i = pos;
  while (i < source.length) {
    const c = source[i];
    if (c === "\n" || source.startsWith("\r\n", i)) break;
    if ((c === "$" || c === "%") && source[i + 1] === "{") break;
    i += (c === "$" || c === "%") && source[i + 1] === c && source[i + 2] === "{" ? 3 : 1;
  }
  return i;
}
