/**
 * Canonical JSON (keys sorted, no whitespace) and SHA-256: the two pieces the
 * event log's hash chain is made of. Hashing is synchronous and in
 * JavaScript (@noble/hashes): node:crypto's hash objects on Deno hold native
 * memory until a garbage collection finalises them, so hashing millions of
 * records grew the process by hundreds of megabytes.
 */
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex } from "@noble/hashes/utils";

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

const encoder = new TextEncoder();

/** SHA-256 of `text` (UTF-8) as lowercase hex. */
export function sha256Hex(text: string | Uint8Array): string {
  return bytesToHex(sha256(typeof text === "string" ? encoder.encode(text) : text));
}

/** SHA-256 (hex) of the concatenation of `parts` (UTF-8 for strings), without joining them. */
export function sha256HexOf(parts: (string | Uint8Array)[]): string {
  const h = sha256.create();
  for (const p of parts) h.update(typeof p === "string" ? encoder.encode(p) : p);
  return bytesToHex(h.digest());
}
