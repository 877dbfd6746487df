/**
 * JSON text exactly as `packer fix` writes it: Go's encoding/json encoder
 * (object keys sorted by their UTF-8 bytes, `<`, `>`, `&`, U+2028 and
 * U+2029 and control characters escaped as \u00XX, numbers as float64) indented
 * by two spaces, after which Packer turns `\u003c` and `\u003e` back into
 * `<` and `>` (but leaves `\u0026`). Matching it byte for byte lets users
 * diff `kiln fix` against `packer fix`.
 */

/** Renders `value` as `packer fix` prints it (without the trailing blank line). */
export function goIndentedJson(value: unknown): string {
  return render(value, "");
}

function render(value: unknown, indent: string): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return goString(value);
  if (typeof value === "number") return goNumber(value);
  if (typeof value === "boolean") return String(value);
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + render(v, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => compareUtf8(a, b));
  if (entries.length === 0) return "{}";
  const lines = entries.map(([k, v]) => `${inner}${goString(k)}: ${render(v, inner)}`);
  return `{\n${lines.join(",\n")}\n${indent}}`;
}

/** Go sorts map keys as byte strings: UTF-8 order, which is code point order. */
function compareUtf8(a: string, b: string): number {
  const ca = [...a];
  const cb = [...b];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = ca[i].codePointAt(0)! - cb[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}

/** float64 as Go's encoder writes it: JavaScript's shortest form, same exponent thresholds. */
function goNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`json: unsupported value: ${n}`);
  if (Object.is(n, -0)) return "-0";
  return String(n);
}

function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "&") out += "\\u" + c.toString(16).padStart(4, "0");
    else if (c === 0x2028 || c === 0x2029) out += "\\u" + c.toString(16);
    else if (c >= 0xd800 && c <= 0xdfff) out += "\ufffd"; // a lone surrogate: invalid UTF-8 in Go
    else out += ch;
  }
  return out + '"';
}
