/**
 * Canonical JSON (keys sorted, no whitespace) and SHA-256: the two pieces the
 * event log's hash chain is made of. Synchronous node:crypto hashing keeps
 * verifying 100,000 records well under the resume budget.
 */
import { createHash } from "node:crypto";

/** Serialises `value` with object keys sorted at every level and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value);
    // undefined/functions have no JSON form; null keeps the record well-formed.
    return text === undefined ? "null" : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    if (obj[key] === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(obj[key])}`);
  }
  return `{${parts.join(",")}}`;
}

/** SHA-256 of `text` (UTF-8) as lowercase hex. */
export function sha256Hex(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}
