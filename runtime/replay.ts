/**
 * `kiln replay <run-id>`: re-renders a run's output from its log, with no
 * side effects, verifying the hash chain on the way and reporting the first
 * broken record (everything before it is still shown).
 */
import { EventLogError, parseEventLog, type TornTail } from "./log_reader.ts";
import type { EventRecord } from "./events.ts";
import { eventsPath, kilnHome } from "./paths.ts";
import { Renderer, type RenderOptions } from "./render.ts";
import { RunRefusedError } from "./errors.ts";

/** What replay found. */
export interface ReplayResult {
  runId: string;
  /** Records that verified (and were rendered). */
  records: number;
  /** The whole log verified (a torn last line still counts as verified). */
  verified: boolean;
  torn?: TornTail;
  /** The first broken record. */
  broken?: { line: number; message: string };
  /** The rendered output. */
  lines: string[];
}

/** Replays run `runId`. */
export async function replayRun(
  runId: string,
  options: Partial<RenderOptions> & { home?: string } = {},
): Promise<ReplayResult> {
  const file = eventsPath(runId, options.home ?? kilnHome());
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch {
    throw new RunRefusedError(`no run ${runId} under ${options.home ?? kilnHome()}`);
  }
  let records: EventRecord[];
  let torn: TornTail | undefined;
  let broken: ReplayResult["broken"];
  try {
    ({ records, torn } = parseEventLog(bytes, file));
  } catch (err) {
    if (!(err instanceof EventLogError)) throw err;
    broken = { line: err.line, message: err.message };
    records = parseEventLog(prefixLines(bytes, err.line - 1), file).records;
  }
  const renderer = new Renderer({
    color: options.color ?? false,
    machineReadable: options.machineReadable ?? false,
    timestamp: options.timestamp ?? false,
  });
  const lines = records.flatMap((r) => renderer.render(r));
  return { runId, records: records.length, verified: !broken, torn, broken, lines };
}

/** The first `n` complete lines of `bytes`. */
function prefixLines(bytes: Uint8Array, n: number): Uint8Array {
  let at = 0;
  for (let i = 0; i < n; i++) at = bytes.indexOf(0x0a, at) + 1;
  return bytes.subarray(0, at);
}
