/**
 * Tokens of the emulated PowerShell subset: quoted strings (kept raw, so
 * double-quoted ones expand at run time), `$variables`, numbers, bare words
 * (command names, parameters, unquoted paths), `[Type]` literals and
 * punctuation. Each token knows its line and source offset so the
 * Set-PsDebug trace can print the statement it runs.
 */
import { UnsupportedError } from "./windows_machine.ts";

/** Where a token is in the source: offsets `[at, end)` and its line. */
interface Place {
  at: number;
  end: number;
  line: number;
}

/** One token. */
export type Token =
  & Place
  & (
    | { kind: "str"; quote: "'" | '"'; value: string }
    | { kind: "var"; value: string }
    | { kind: "num"; value: number }
    | { kind: "word"; value: string }
    | { kind: "type"; value: string }
    | { kind: "op"; value: string }
  );

type Bare<T> = T extends unknown ? Omit<T, "end"> : never;

const WORD_END = /[\s{}();,|<>'"]/;
const NAME = /[A-Za-z0-9_?]/;

/** Splits PowerShell source into tokens; newlines become `;`-like `\n` operators. */
export function lex(src: string): Token[] {
  const tokens: Token[] = [];
  const out = { push: (t: Bare<Token>) => tokens.push({ ...t, end: i } as Token) };
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    const at = i;
    if (ch === "\n") {
      i++;
      out.push({ kind: "op", value: "\n", at, line });
      line++;
    } else if (ch === " " || ch === "\t" || ch === "\r") {
      i++;
    } else if (ch === "#") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (ch === "'") {
      let value = "";
      for (i++;; i++) {
        if (i >= src.length) throw new UnsupportedError("unterminated '...' string");
        if (src[i] === "'" && src[i + 1] === "'") {
          value += "'";
          i++;
        } else if (src[i] === "'") break;
        else value += src[i];
      }
      i++;
      out.push({ kind: "str", quote: "'", value, at, line });
    } else if (ch === '"') {
      let value = "";
      for (i++;; i++) {
        if (i >= src.length) throw new UnsupportedError('unterminated "..." string');
        if (src[i] === "`" && i + 1 < src.length) {
          value += src[i] + src[i + 1];
          i++;
        } else if (src[i] === '"' && src[i + 1] === '"') {
          value += '`"';
          i++;
        } else if (src[i] === '"') break;
        else value += src[i];
      }
      i++;
      out.push({ kind: "str", quote: '"', value, at, line });
    } else if (ch === "$") {
      i++;
      if (src[i] === "(" || src[i] === "{") {
        throw new UnsupportedError(`"$${src[i]}" (subexpressions and \${} names)`);
      }
      let name = "";
      if (/^env:/i.test(src.slice(i, i + 4))) {
        name = src.slice(i, i + 4);
        i += 4;
      }
      while (i < src.length && NAME.test(src[i])) name += src[i++];
      out.push({ kind: "var", value: name, at, line });
    } else if (ch === "[") {
      const end = src.indexOf("]", i);
      if (end < 0) throw new UnsupportedError("unterminated [...]");
      const value = src.slice(i + 1, end);
      i = end + 1;
      out.push({ kind: "type", value, at, line });
    } else if (src.startsWith("::", i)) {
      i += 2;
      out.push({ kind: "op", value: "::", at, line });
    } else if ("{}();,=&|".includes(ch)) {
      i++;
      out.push({ kind: "op", value: ch, at, line });
    } else if (ch === "." && (i + 1 >= src.length || /[\s'"]/.test(src[i + 1]))) {
      i++;
      out.push({ kind: "op", value: ".", at, line });
    } else if (/[0-9]/.test(ch) && /^[0-9]+(?=$|[\s;)},])/.test(src.slice(i))) {
      const digits = /^[0-9]+/.exec(src.slice(i))![0];
      i += digits.length;
      out.push({ kind: "num", value: Number(digits), at, line });
    } else {
      let value = "";
      while (i < src.length && !WORD_END.test(src[i])) value += src[i++];
      out.push({ kind: "word", value, at, line });
    }
  }
  return tokens;
}
