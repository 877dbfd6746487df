/**
 * Rewriting a run log as an attacker who knows the public rule would: the
 * records edited as the caller likes, then every seq, prev and hash
 * recomputed (canonical JSON + SHA-256). The attacker cannot compute the
 * run key's MAC, so each record keeps the one it had.
 */
import { canonicalJson, sha256Hex } from "../../runtime/canonical.ts";
import type { EventRecord } from "../../runtime/events.ts";

/** The records of a log file, unverified. */
export async function logRecords(file: string): Promise<EventRecord[]> {
  return (await Deno.readTextFile(file)).trimEnd().split("\n").map((l) => JSON.parse(l));
}

/** Writes `records` to `file` with a chain that verifies without the key. */
export async function forgeLog(file: string, records: EventRecord[]): Promise<void> {
  let prev = "";
  const lines = records.map((r, i) => {
    const { hash: _hash, mac, ...rest } = r;
    const body = { ...rest, seq: i + 1, prev };
    prev = sha256Hex(canonicalJson(body));
    return canonicalJson({ ...body, hash: prev, ...(mac ? { mac } : {}) });
  });
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
}
