/**
 * Encoding functions: base64decode base64encode csvdecode jsondecode
 * jsonencode urlencode textencodebase64 textdecodebase64. yamldecode and
 * yamlencode are in yaml.ts.
 */
import { Buffer } from "node:buffer";
import { type HclFunction, type Value, ValueError } from "../value.ts";
import { fn, str } from "./args.ts";
import { goJson } from "./json.ts";
import { decodeText, encodeText } from "./text_encodings.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes standard base64 strictly, as Go's StdEncoding does (padding required). */
export function decodeBase64(s: string, index: number): Uint8Array {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    throw new ValueError(`failed to decode base64 data '${s}'`, index);
  }
  return Buffer.from(s, "base64");
}

function base64decode(a: Value[]): string {
  const bytes = decodeBase64(str(a, 0, "str"), 0);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new ValueError("the result of decoding the provided string is not valid UTF-8", 0);
  }
}

/** Go's encoding/csv reader: RFC 4180 quoting, every record as wide as the header. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = 0;
  const endRow = () => {
    row.push(field);
    rows.push(row);
    if (rows.length > 1 && row.length !== rows[0].length) {
      throw new ValueError(`record on line ${rowLine}: wrong number of fields`, 0);
    }
    [row, field, rowLine] = [[], "", line];
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"', i += 2);
      else if (c === '"') (quoted = false, i++);
      else {
        if (c === "\n") line++;
        (field += c, i++);
      }
    } else if (c === '"' && field === "") {
      (quoted = true, i++);
    } else if (c === '"') {
      throw new ValueError(
        `parse error on line ${line}, column ${i + 1}: bare " in non-quoted-field`,
        0,
      );
    } else if (c === ",") {
      (row.push(field), field = "", i++);
    } else if (c === "\n" || (c === "\r" && text[i + 1] === "\n")) {
      i += c === "\r" ? 2 : 1;
      line++;
      endRow();
    } else {
      (field += c, i++);
    }
  }
  if (quoted) {
    throw new ValueError(`parse error on line ${line}: extraneous or missing " in quoted-field`, 0);
  }
  if (field !== "" || row.length > 0) endRow();
  return rows;
}

function csvdecode(a: Value[]): Value[] {
  const [header, ...records] = parseCsv(str(a, 0, "str"));
  if (!header) throw new ValueError("missing header line", 0);
  return records.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

function jsondecode(a: Value[]): Value {
  const text = str(a, 0, "str");
  try {
    return JSON.parse(text) as Value;
  } catch (e) {
    throw new ValueError(`invalid JSON: ${(e as Error).message}`, 0);
  }
}

/** Go's url.QueryEscape: space as "+", only A-Z a-z 0-9 - _ . ~ left as they are. */
function urlencode(s: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** The encoding family (without YAML). */
export const ENCODING_FUNCTIONS: Record<string, HclFunction> = {
  base64decode: fn(["str"], base64decode),
  base64encode: fn(["str"], (a) => Buffer.from(str(a, 0, "str"), "utf-8").toString("base64")),
  csvdecode: fn(["str"], csvdecode),
  jsondecode: fn(["str"], jsondecode),
  jsonencode: fn(["val"], (a) => goJson(a[0] ?? null)),
  urlencode: fn(["str"], (a) => urlencode(str(a, 0, "str"))),
  textencodebase64: fn(["string", "encoding"], (a) => {
    const bytes = encodeText(str(a, 0, "string"), str(a, 1, "encoding"));
    return Buffer.from(bytes).toString("base64");
  }),
  textdecodebase64: fn(["source", "encoding"], (a) => {
    const bytes = decodeBase64(str(a, 0, "source"), 0);
    return decodeText(bytes, str(a, 1, "encoding"));
  }),
};
