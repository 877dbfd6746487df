/**
 * Post-processor outputs in the run's ledger, under the builder artifact's
 * rule: what this run wrote is deleted when the build does not finish
 * (compensation, `kiln cleanup`) and kept once it succeeded. Each output is
 * claimed before the post-processor runs (write-ahead) and recorded with its
 * identity once it has run; scratch names (a partial archive, a lock) leave
 * the ledger as they leave the disk. A file that existed before the run is
 * never claimed: checksum appends to one, artifice only names one, and
 * neither makes it this run's to delete.
 */
import { join, resolve } from "node:path";
import type { ResourceHandler, ResourceRecord } from "./types.ts";
import { claimRecord, localPathHandler, madeRecord } from "./local_path_resource.ts";
import { identityOf, type LocalIdentity } from "./local_identity.ts";

/** The ledger kind of a file a post-processor wrote or adopted. */
export const POST_PROCESSOR_OUTPUT = "post-processor.output";

/** The write-ahead claim of `path`, about to be written by post-processor `key` ("chain:index"). */
export function outputClaim(path: string, key: string, scratch = false): ResourceRecord {
  return claimRecord(POST_PROCESSOR_OUTPUT, resolve(path), { postProcessor: key }, scratch);
}

/** Clock slack of a birth time against the build's start (see local_identity.ts). */
const BORN_SLACK_MS = 100;

/** Most entries looked at inside one adopted directory: the log stays small. */
const MAX_WALK = 10_000;

function bornSince(identity: LocalIdentity, since: Date): boolean {
  return identity.birthMs !== null && identity.birthMs >= since.getTime() - BORN_SLACK_MS;
}

/**
 * The record for a file a post-processor named but did not declare
 * (artifice picking up what a provisioner made), when this build made it:
 * born at or after `since`. A directory born since then is the run's
 * whole; an older one contributes only the entries inside it born since
 * then. Without a birth time the answer is no: a file whose origin cannot
 * be proven is left alone.
 */
export async function adoptedRecord(
  path: string,
  key: string,
  since: Date,
): Promise<ResourceRecord | undefined> {
  const abs = resolve(path);
  const identity = await identityOf(abs).catch(() => undefined);
  if (!identity) return undefined;
  const extra = { postProcessor: key };
  if (bornSince(identity, since)) {
    return await madeRecord(POST_PROCESSOR_OUTPUT, abs, extra, { createdByRun: true });
  }
  if (identity.type !== "dir") return undefined;
  const files = await newEntriesInside(abs, since);
  if (files.length === 0) return undefined;
  return await madeRecord(POST_PROCESSOR_OUTPUT, abs, extra, { createdByRun: false, files });
}

/** Entries under `dir` born since `since` (a new directory counts whole, not walked). */
async function newEntriesInside(
  dir: string,
  since: Date,
): Promise<{ path: string; identity: LocalIdentity }[]> {
  const found: { path: string; identity: LocalIdentity }[] = [];
  let seen = 0;
  const walk = async (at: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(at));
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (++seen > MAX_WALK) return;
      const path = join(at, e.name);
      const identity = await identityOf(path).catch(() => undefined);
      if (!identity) continue;
      if (bornSince(identity, since)) found.push({ path, identity });
      else if (identity.type === "dir") await walk(path);
    }
  };
  await walk(dir);
  return found;
}

/** Handlers the runtime supplies whatever the builder (post-processors run after any). */
export const runtimeResourceHandlers: Record<string, ResourceHandler> = {
  [POST_PROCESSOR_OUTPUT]: localPathHandler,
};
