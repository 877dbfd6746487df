/** `kiln version`: kiln's version and the Packer version it is compatible with. */
import { KILN_VERSION, PACKER_COMPAT_VERSION } from "../version.ts";
import { ArgsError, isHelpRequest, parseCommandArgs } from "./args.ts";
import { commandOutput } from "./machine_readable.ts";

const USAGE = `Usage: kiln version [-machine-readable]

  Prints kiln's version and the Packer version it is compatible with.`;

/** Runs `kiln version [-machine-readable]`. */
export function run(args: string[]): Promise<number> {
  if (isHelpRequest(args)) {
    console.log(USAGE);
    return Promise.resolve(0);
  }
  let machine = false;
  try {
    const parsed = parseCommandArgs(args, { "machine-readable": { type: "boolean" } });
    machine = parsed.values["machine-readable"] === true;
    if (parsed.positionals.length > 0) throw new ArgsError("version takes no arguments");
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return Promise.resolve(1);
  }
  const out = commandOutput(machine);
  out.machine("version", KILN_VERSION);
  out.machine("version-prelease", "");
  out.machine("version-commit", "");
  out.machine("packer-compatible-version", PACKER_COMPAT_VERSION);
  out.say(`Kiln v${KILN_VERSION} (Packer ${PACKER_COMPAT_VERSION} compatible)`);
  return Promise.resolve(0);
}
