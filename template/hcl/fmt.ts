/**
 * Canonical layout of HCL native syntax, identical to `packer fmt` (which is
 * HCL's hclwrite.Format). Only the blanks between tokens change: string
 * contents, heredoc bodies and comments are kept as written. The rules
 * work line by line on tokens, with no syntax tree, exactly as hclwrite's:
 *
 * - indentation is two spaces per level of brackets left open by the lines above;
 * - the spacing between two tokens on a line depends only on the two tokens
 *   (and the one before, to tell a negation from a subtraction);
 * - the `=` of consecutive one-line attributes line up, and so do trailing
 *   comments on consecutive lines.
 */
import { HclSyntaxError, lexHcl, type Token, type TokenType } from "./lexer.ts";

export { HclSyntaxError };

/** A token and the number of spaces written before it. */
interface Cell {
  token: Token;
  spaces: number;
}

/** One source line split into hclwrite's three cells: lead, `= value`, trailing comment. */
interface Line {
  lead: Cell[];
  assign: Cell[] | undefined;
  comment: Cell[] | undefined;
}

/**
 * Formats HCL source the way `packer fmt` does. Throws HclSyntaxError when
 * the source cannot be tokenized (an unclosed string, heredoc or comment);
 * other syntax errors are not detected here (see `checkHclSyntax`).
 */
export function formatHcl(source: string): string {
  const tokens = lexHcl(source);
  let previousEnd = 0;
  const cells = tokens.map((token) => {
    // The scanner treats a tab as a space, so a gap keeps its width in characters.
    const cell = { token, spaces: token.start - previousEnd };
    previousEnd = token.end;
    return cell;
  });
  const lines = splitLines(cells);
  indent(lines);
  space(lines);
  align(lines);
  return cells.map((c) => " ".repeat(c.spaces) + c.token.text).join("");
}

function endsLine(token: Token): boolean {
  // A # or // comment carries the newline that ends it.
  return token.type === "Newline" || (token.type === "Comment" && token.text.endsWith("\n"));
}

function bracketChange(type: TokenType): number {
  switch (type) {
    case "OBrace":
    case "OBrack":
    case "OParen":
    case "TemplateInterp":
    case "TemplateControl":
      return 1;
    case "CBrace":
    case "CBrack":
    case "CParen":
    case "TemplateSeqEnd":
      return -1;
    default:
      return 0;
  }
}

function netBrackets(cells: Cell[]): number {
  return cells.reduce((n, c) => n + bracketChange(c.token.type), 0);
}

function splitLines(cells: Cell[]): Line[] {
  const lines: Line[] = [];
  let current: Cell[] = [];
  for (const cell of cells) {
    // The EOF token belongs to no line: the blanks before it are kept as they are.
    if (cell.token.type === "EOF") break;
    current.push(cell);
    if (endsLine(cell.token)) {
      lines.push({ lead: current, assign: undefined, comment: undefined });
      current = [];
    }
  }
  if (current.length > 0) lines.push({ lead: current, assign: undefined, comment: undefined });

  for (const line of lines) {
    const last = line.lead[line.lead.length - 1];
    if (line.lead.length > 1 && last.token.type === "Comment") {
      line.comment = line.lead.slice(-1);
      line.lead = line.lead.slice(0, -1);
    }
    const eq = line.lead.findIndex((c, i) => i > 0 && c.token.type === "Equal");
    // Only a value that ends on this line joins the alignment of `=` signs.
    if (eq !== -1 && netBrackets(line.lead.slice(eq)) === 0) {
      line.assign = line.lead.slice(eq);
      line.lead = line.lead.slice(0, eq);
    }
  }
  return lines;
}

function indent(lines: Line[]): void {
  // Each entry: how many brackets a line opened that are still open.
  const open: number[] = [];
  for (const line of lines) {
    const first = line.lead[0];
    if (first === undefined) continue;
    if (first.token.type === "Newline") {
      first.spaces = 0;
      continue;
    }
    let net = 0;
    for (const cell of line.lead) {
      net += bracketChange(cell.token.type);
      // Brackets in a heredoc body are text.
      if (cell.token.type === "OHeredoc") break;
    }
    net += netBrackets(line.assign ?? []);
    if (net > 0) {
      first.spaces = 2 * open.length;
      open.push(net);
      continue;
    }
    let closed = -net;
    while (closed > 0 && open.length > 0) {
      const top = open[open.length - 1];
      if (closed >= top) {
        closed -= top;
        open.pop();
      } else {
        open[open.length - 1] = top - closed;
        closed = 0;
      }
    }
    first.spaces = 2 * open.length;
  }
}

function space(lines: Line[]): void {
  for (const line of lines) {
    for (const cells of [line.lead, line.assign ?? []]) {
      // The `=` that starts an assign cell gets its spaces from the alignment.
      for (let i = 0; i + 1 < cells.length; i++) {
        const before = i > 0 ? cells[i - 1].token : undefined;
        cells[i + 1].spaces = spaceAfter(cells[i].token, before, cells[i + 1].token) ? 1 : 0;
      }
    }
  }
}

/** Tokens after which a `-` is a negation, not a subtraction. */
const NEGATION_CONTEXT = new Set<TokenType>([
  "OParen",
  "OBrace",
  "OBrack",
  "Equal",
  "Colon",
  "Comma",
  "Question",
  "Plus",
  "Star",
  "Slash",
  "Percent",
  "Minus",
  "EqualOp",
  "NotEqual",
  "GreaterThan",
  "GreaterThanEq",
  "LessThan",
  "LessThanEq",
  "And",
  "Or",
  "Bang",
]);

const TEMPLATE_TEXT = new Set<TokenType>(["QuotedLit", "StringLit"]);

function spaceAfter(subject: Token, before: Token | undefined, after: Token): boolean {
  const s = subject.type;
  const a = after.type;
  if (a === "Newline") return false;
  if (s === "Ident" && a === "OParen") return false; // a function call
  if (s === "Dot" || a === "Dot") return false;
  if (a === "Comma" || a === "Ellipsis") return false;
  if (s === "Comma") return true;
  if (
    TEMPLATE_TEXT.has(s) || s === "OQuote" || s === "OHeredoc" || TEMPLATE_TEXT.has(a) ||
    a === "CQuote" || a === "CHeredoc"
  ) return false;
  // `for x in [a]`: `in` is a keyword here, not a value being indexed.
  if (s === "Ident" && subject.text === "in" && before?.type === "Ident") return true;
  if (a === "OBrack" && (s === "Ident" || s === "NumberLit" || bracketChange(s) < 0)) return false;
  if (s === "Bang") return false;
  if (s === "Minus") return before !== undefined && !NEGATION_CONTEXT.has(before.type);
  if (s === "OBrace" || a === "CBrace") return !(s === "OBrace" && a === "CBrace");
  if ((s === "TemplateInterp" || s === "TemplateControl") && a === "OBrace") return true;
  if (s === "CBrace" && a === "TemplateSeqEnd") return true;
  if (s === "TemplateSeqEnd" && (a === "TemplateInterp" || a === "TemplateControl")) return false;
  if (bracketChange(s) > 0) return false;
  if (bracketChange(a) < 0) return false;
  return true;
}

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/** Width in columns as hclwrite counts it: spaces plus grapheme clusters. */
function columns(cells: Cell[] | undefined): number {
  let n = 0;
  for (const c of cells ?? []) {
    n += c.spaces;
    for (const _ of graphemes.segment(c.token.text)) n++;
  }
  return n;
}

function align(lines: Line[]): void {
  alignCells(lines, (l) => l.assign, (l) => columns(l.lead));
  alignCells(lines, (l) => l.comment, (l) => columns(l.lead) + columns(l.assign));
}

/** Pads the cell picked by `cell` on runs of consecutive lines that have one, to one column. */
function alignCells(
  lines: Line[],
  cell: (line: Line) => Cell[] | undefined,
  width: (line: Line) => number,
): void {
  let run: Line[] = [];
  const close = () => {
    const widths = run.map(width);
    const max = Math.max(...widths);
    run.forEach((line, i) => cell(line)![0].spaces = max - widths[i] + 1);
    run = [];
  };
  for (const line of lines) {
    if (cell(line) === undefined) {
      if (run.length > 0) close();
    } else run.push(line);
  }
  if (run.length > 0) close();
}
