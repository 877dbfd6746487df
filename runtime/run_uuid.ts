/**
 * Packer's `PackerRunUUID` for a kiln run: a random UUID v4 recorded in the
 * run's RunStarted event, so every process that drives the run (the first,
 * each `--resume`) gives provisioners, `{{build "PackerRunUUID"}}` and the
 * manifest the same value. kiln's own run id stays the directory name.
 */
import { sha256 } from "@noble/hashes/sha2";

/** A fresh run UUID (RFC 4122 version 4). */
export function newRunUuid(): string {
  return crypto.randomUUID();
}

/**
 * The run's UUID: the recorded one, or, for a run logged before kiln
 * recorded it, a v4-shaped UUID derived from the run id — stable across
 * resumes, which is what the value promises.
 */
export function runUuidOf(state: { runId: string; runUuid?: string }): string {
  if (state.runUuid) return state.runUuid;
  const h = sha256(new TextEncoder().encode(`kiln-run-uuid:${state.runId}`));
  h[6] = (h[6] & 0x0f) | 0x40;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = Array.from(h.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20, 32)
  }`;
}
