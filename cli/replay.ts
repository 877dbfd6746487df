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

const USAGE = `Usage: kiln replay <run-id> [--json] [-machine-readable] [-color=false]

  Prints the output of a run again from its event log and verifies the log's
  hash chain, reporting the first broken record.`;

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
    const result = await replayRun(parsed.positionals[0], {
      home: kilnHome(),
      color: v.color === false ? false : defaultColor(),
      machineReadable: v["machine-readable"] === true,
      timestamp: v["timestamp-ui"] === true,
    });
    if (v.json === true) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      if (result.lines.length > 0) console.log(result.lines.join("\n"));
      const tail = result.torn
        ? ` (torn last line ${result.torn.line}, ${result.torn.bytes} bytes, ignored: the writer died mid-append)`
        : "";
      if (result.verified) {
        console.error(`\nkiln replay: hash chain verified: ${result.records} events${tail}`);
      } else {
        console.error(
          `\nkiln replay: hash chain BROKEN after ${result.records} good events: ${
            result.broken!.message
          }`,
        );
      }
    }
    return result.verified ? 0 : 1;
  } catch (err) {
    console.error(formatCliError("replay", err));
    return 1;
  }
}
