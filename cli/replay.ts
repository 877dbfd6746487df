/**
 * `kiln replay <run-id> [--json] [-machine-readable] [-color=false]`:
 * re-renders a run's output from its log, without side effects, and
 * verifies the hash chain; exit 1 naming the first broken record.
 */
import { isHelpRequest, parseCommandArgs } from "./args.ts";
import { replayRun } from "../runtime/replay.ts";
import { kilnHome } from "../runtime/paths.ts";
import { defaultColor } from "../runtime/terminal.ts";
import { formatCliError } from "../runtime/errors.ts";
import type { ReplayResult } from "../runtime/replay.ts";
import { StdoutBuffer } from "./stdout_lines.ts";

const USAGE = `Usage: kiln replay <run-id> [--json] [-machine-readable] [-color=false]

  Prints the output of a run again from its event log and verifies every
  record: the hash chain, the run id of each record and the run's seal
  (kept under KILN_SEAL_DIR). Exits 1 naming the first bad record, or when
  the run has no seal on this machine.`;

/** Runs `kiln replay`; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  if (isHelpRequest(args)) {
    console.log(USAGE);
    return 0;
  }
  try {
    const parsed = parseCommandArgs(args, {
      json: { type: "boolean" },
      "machine-readable": { type: "boolean" },
      color: { type: "boolean" },
      "timestamp-ui": { type: "boolean" },
    });
    if (parsed.positionals.length !== 1) {
      console.error(USAGE);
      return 1;
    }
    const v = parsed.values;
    const out = new StdoutBuffer();
    const json = v.json === true;
    let first = true;
    const result = await replayRun(parsed.positionals[0], {
      home: kilnHome(),
      color: v.color === false ? false : defaultColor(),
      machineReadable: v["machine-readable"] === true,
      timestamp: v["timestamp-ui"] === true,
      onLine: (line) => {
        out.write(json ? `${first ? '{"lines":[' : ","}${JSON.stringify(line)}` : `${line}\n`);
        first = false;
      },
    });
    if (json) {
      const { lines: _lines, ...rest } = result;
      out.write(`${first ? '{"lines":[' : ""}],${JSON.stringify(rest).slice(1)}\n`);
      out.flush();
    } else {
      out.flush();
      console.error("\n" + verdict(result));
    }
    return result.verified ? 0 : 1;
  } catch (err) {
    console.error(formatCliError("replay", err));
    return 1;
  }
}

/** The closing line: verified, or the first problem. */
function verdict(result: ReplayResult): string {
  if (!result.verified) {
    return `kiln replay: NOT VERIFIED after ${result.records} good events: ${
      result.broken?.message ?? "unknown problem"
    }`;
  }
  const notes: string[] = [];
  if (result.torn) {
    notes.push(
      `torn last line ${result.torn.line}, ${result.torn.bytes} bytes, ignored: the writer died mid-append`,
    );
  }
  if (result.unsealed > 0) {
    notes.push(
      `${result.unsealed} record(s) after the last seal, written by a process that died before ` +
        `sealing them (each carries the run key's MAC)`,
    );
  }
  return `kiln replay: sealed log verified: ${result.records} events` +
    (notes.length ? ` (${notes.join("; ")})` : "");
}
