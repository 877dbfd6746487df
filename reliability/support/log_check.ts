/**
 * What a trial asks of a run's log: that it verifies (hash chain, no gap),
 * and that nothing the interrupted process had written — or shown — is gone
 * after the resume or cleanup that followed ("lost events").
 */
import { readRun } from "../../runtime/run_reader.ts";
import type { EventRecord } from "../../runtime/events.ts";
import { foldRun, type RunState } from "../../runtime/fold.ts";
import { eventsPath } from "../../runtime/paths.ts";
import { Renderer } from "../../runtime/render.ts";
import { errorMessage } from "../../runtime/errors.ts";

/** The complete records on disk right now (a torn last line is skipped), unverified. */
export async function recordsOnDisk(home: string, runId: string): Promise<EventRecord[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(eventsPath(runId, home));
  } catch {
    return [];
  }
  const lines = text.split("\n");
  lines.pop(); // after the last "\n": empty, or a torn record
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as EventRecord];
    } catch {
      return [];
    }
  });
}

/** A verified log and its fold, or why it does not verify. */
export type VerifiedLog =
  | { ok: true; records: EventRecord[]; state: RunState }
  | { ok: false; problem: string };

/**
 * Reads the run's log through kiln's own verifying reader: every record's
 * chain link, run id and MAC, and the run's seal (under `sealHome`, default
 * KILN_SEAL_DIR; a store's working copy keeps its own).
 */
export function verifyLog(home: string, runId: string, sealHome?: string): Promise<VerifiedLog> {
  return Promise.resolve().then(() => verifyNow(home, runId, sealHome));
}

function verifyNow(home: string, runId: string, sealHome?: string): VerifiedLog {
  try {
    const records: EventRecord[] = [];
    const contents = readRun(runId, home, {
      sealHome,
      full: true,
      everyMac: true,
      onRecord: (r) => records.push(r),
    });
    if (contents.torn) {
      return {
        ok: false,
        problem: `torn last line ${contents.torn.line} after a finished command`,
      };
    }
    return { ok: true, records, state: foldRun(records, runId) };
  } catch (err) {
    return { ok: false, problem: errorMessage(err) };
  }
}

// The CLI's own lines that are printed but not logged (README: all output but the run-id hint).
const NOT_LOGGED = [/^==> Run \d{8}T\d{6}Z-[0-9a-f]+: `kiln runs show/, /^==> Resuming in /, /^$/];

/**
 * Events lost: records that were complete on disk when the process died but
 * are missing (by hash) from the final log, plus lines the dead process
 * printed (each one is a logged `Ui` event, shown only after its append)
 * that the final log does not render in the same order.
 */
export function lostEvents(
  before: EventRecord[],
  shownLines: string[],
  after: EventRecord[],
): { count: number; first?: string } {
  const hashes = new Set(after.map((r) => r.hash));
  const missing = before.filter((r) => !hashes.has(r.hash));
  const renderer = new Renderer({ color: false, machineReadable: false, timestamp: false });
  const rendered = after.flatMap((r) => renderer.render(r));
  let at = 0;
  let unmatched = 0;
  let first = missing[0] ? `record ${missing[0].seq} ${missing[0].type}` : undefined;
  for (const line of shownLines) {
    if (NOT_LOGGED.some((re) => re.test(line))) continue;
    const found = rendered.indexOf(line, at);
    if (found < 0) {
      unmatched++;
      first ??= `shown line not in the log: ${JSON.stringify(line.slice(0, 120))}`;
    } else {
      at = found + 1;
    }
  }
  return { count: missing.length + unmatched, first };
}

/** Live ledger entries of the run, as `build kind id` strings. */
export function liveLedger(state: RunState, includeKept = true): string[] {
  return Object.values(state.builds).flatMap((b) =>
    b.resources
      .filter((e) => !e.deletedAt && !e.released)
      .filter((e) => includeKept || b.status !== "succeeded" || e.resource.temporary)
      .map((e) => `${b.name} ${e.resource.kind} ${e.resource.id}`)
  );
}
