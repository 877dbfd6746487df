/**
 * `kiln replay <run-id>`: re-renders a run's output from its log, with no
 * side effects, verifying every record on the way — the hash chain, the
 * run id of each record, and the run's seal — and reporting the first bad
 * record (everything before it is still shown). The log is streamed, so a
 * log of any size replays in bounded memory.
 */
import { runStoreBackend } from "./replica.ts";
import type { EventRecord } from "./events.ts";
import { EventLogError, type TornTail } from "./log_reader.ts";
import { kilnHome } from "./paths.ts";
import { Renderer, type RenderOptions } from "./render.ts";
import { readRun } from "./run_reader.ts";
import { sealHome } from "./seal.ts";
import { NotRegularFileError } from "./log_file.ts";

/** What replay found. */
export interface ReplayResult {
  runId: string;
  /** Records that verified (and were rendered). */
  records: number;
  /**
   * The whole log verified against its seal (a torn last line, or records
   * written after the last seal by a process that died, still count).
   */
  verified: boolean;
  /** The log matches a seal on this machine. */
  sealed: boolean;
  torn?: TornTail;
  /** Records after the last seal: written by a process that died before sealing them. */
  unsealed: number;
  /** The first bad record, or why the log cannot be verified. */
  broken?: { line: number; message: string };
  /** The rendered output (empty when `onLine` received it). */
  lines: string[];
}

/** Options of replayRun. */
export interface ReplayOptions extends Partial<RenderOptions> {
  home?: string;
  sealHome?: string;
  /** Receives each output line as it is rendered (else they are collected in `lines`). */
  onLine?: (line: string) => void;
}

/** Replays run `runId`. */
export async function replayRun(
  runId: string,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  await runStoreBackend()?.refresh(runId, options.home ?? kilnHome(), { full: true });
  return replay(runId, options);
}

function replay(runId: string, options: ReplayOptions): ReplayResult {
  const home = options.home ?? kilnHome();
  const renderer = new Renderer({
    color: options.color ?? false,
    machineReadable: options.machineReadable ?? false,
    timestamp: options.timestamp ?? false,
  });
  const lines: string[] = [];
  const emit = options.onLine ?? ((line: string) => lines.push(line));
  let records = 0;
  const onRecord = (r: EventRecord) => {
    records++;
    for (const line of renderer.render(r)) emit(line);
  };
  const base = { runId, records: 0, verified: false, sealed: false, unsealed: 0, lines };
  try {
    const read = readRun(runId, home, {
      full: true,
      everyMac: true,
      acceptUnsealed: true,
      sealHome: options.sealHome,
      onRecord,
    });
    const sealed = read.seal !== undefined;
    return {
      ...base,
      records,
      verified: sealed,
      sealed,
      torn: read.torn,
      unsealed: read.unsealed,
      ...(sealed ? {} : {
        broken: {
          line: 0,
          message: `no seal for run ${runId} under ${options.sealHome ?? sealHome()}: the ` +
            `chain is consistent but nothing anchors it (made by an older kiln, moved ` +
            `without its seal, or forged)`,
        },
      }),
    };
  } catch (err) {
    if (err instanceof EventLogError) {
      return { ...base, records, broken: { line: err.line, message: err.message } };
    }
    if (err instanceof NotRegularFileError) {
      return { ...base, records, broken: { line: 0, message: err.message } };
    }
    throw err;
  }
}
