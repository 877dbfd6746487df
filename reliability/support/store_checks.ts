/**
 * What every store trial checks once its commands are done, beside the
 * campaign's usual aftermath: the store's log is the one the last writer
 * wrote (byte for byte) and a fresh runner can read and verify it, the lease
 * was given back, no resume secret but the kept inputs is left in the
 * bucket, and no sentinel secret is in any object in clear.
 */
import { join } from "node:path";
import { runDir } from "../../runtime/paths.ts";
import { INPUTS_SECRET } from "../../runtime/run_build.ts";
import { scanForSentinels } from "../secret_scan.ts";
import { type KilnExit, runKilnIn } from "./kiln_process.ts";
import type { StoreRunners } from "./store_runners.ts";
import type { Checks } from "./trials.ts";

/** Same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The local log of run `runId` on runner `name` (empty when there is none). */
export async function localLog(store: StoreRunners, name: string, runId: string) {
  try {
    return await Deno.readFile(join(runDir(runId, store.home(name)), "events.jsonl"));
  } catch {
    return new Uint8Array();
  }
}

/**
 * Checks the store against `writer`'s working copy after the run's last
 * command; returns the fresh reader's `replay` (an output to scan).
 */
export async function checkStore(
  c: Checks,
  store: StoreRunners,
  runId: string,
  writer: string,
  options: { finished: boolean; extraSecrets?: Record<string, string> },
): Promise<KilnExit> {
  const replay = await runKilnIn(["replay", runId], store.spawn(`reader-${writer}`));
  c.expect(
    replay.code === 0,
    `a fresh runner's replay exited ${replay.code}: ${replay.stderr.trim().slice(0, 300)}`,
  );
  const mine = await localLog(store, writer, runId);
  c.expect(
    sameBytes(store.storedLog(runId), mine),
    `the store's log (${store.storedLog(runId).length} bytes) is not runner ${writer}'s ` +
      `(${mine.length} bytes)`,
  );
  if (options.finished) {
    const objects = store.objects(runId);
    const secrets = [...objects.keys()].filter((k) =>
      k.startsWith("secrets/") && k !== `secrets/${INPUTS_SECRET}`
    );
    c.leaked += secrets.length;
    if (secrets.length) c.expect(false, `the store still holds ${secrets.join(", ")}`);
    const lease = objects.get("lease.json");
    let released = false;
    try {
      released = JSON.parse(new TextDecoder().decode(lease)).released === true;
    } catch {
      // No lease object, or not JSON: not given back.
    }
    c.expect(released, "the run's lease was not given back");
  }
  const texts: Record<string, string> = {};
  for (const [key, body] of store.objects(runId)) {
    texts[`s3 ${key}`] = new TextDecoder().decode(body);
  }
  const hits = await scanForSentinels([], texts, options.extraSecrets);
  if (hits.length) c.expect(false, `secrets in the bucket: ${hits.slice(0, 3).join("; ")}`);
  return replay;
}
