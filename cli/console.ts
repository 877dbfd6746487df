/**
 * `kiln console [-var k=v] [-var-file=f] [-config-type=hcl2|json] [CONFIG]`:
 * evaluates expressions against a configuration's variables and locals, as
 * `packer console` does. From a terminal it prompts with `> ` and prints
 * each result; an error is shown and the session goes on. From a pipe it
 * evaluates every line and, like Packer, prints only the last line's result
 * (errors as they occur), exiting 1 if any line failed.
 */
import { formatIssue, TemplateError } from "../template/types.ts";
import type { ConsoleConfigType, ConsoleEvaluator } from "../template/console.ts";
import {
  ArgsError,
  flagHelp,
  type FlagSpecs,
  isHelpRequest,
  parseCommandArgs,
  TEMPLATE_INPUT_FLAGS,
  templateInputsFrom,
} from "./args.ts";

const FLAGS: FlagSpecs = {
  "var": TEMPLATE_INPUT_FLAGS.var,
  "var-file": {
    ...TEMPLATE_INPUT_FLAGS["var-file"],
    help: "-var-file=path         JSON or HCL2 file containing user variables.",
  },
  "config-type": {
    type: "string",
    help: "-config-type=hcl2      Mode without a configuration: hcl2, or json (the default).",
  },
};

const USAGE = `Usage: kiln console [options] [TEMPLATE]

  Creates a console for testing variable interpolation.
  If a template is provided, this command will load the template and any
  variables defined therein into its context to be referenced during
  interpolation.

Options:

${flagHelp(FLAGS)}`;

/** How the console talks to the outside (tests drive it in-process). */
export interface ConsoleIo {
  /** The lines to evaluate; defaults to standard input. */
  lines?: AsyncIterable<string>;
  /** Whether input is a terminal (prompt, every result); defaults to stdin's. */
  interactive?: boolean;
  /** Receives everything written; defaults to stdout/stderr. */
  write?: (text: string, stream: "stdout" | "stderr") => void;
}

function defaultWrite(text: string, stream: "stdout" | "stderr"): void {
  const bytes = new TextEncoder().encode(text);
  (stream === "stdout" ? Deno.stdout : Deno.stderr).writeSync(bytes);
}

/** Standard input, line by line (a final line without a newline counts). */
async function* stdinLines(): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of Deno.stdin.readable) {
    pending += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, nl).replace(/\r$/, "");
      pending = pending.slice(nl + 1);
    }
  }
  pending += decoder.decode();
  if (pending !== "") yield pending.replace(/\r$/, "");
}

/** Runs `kiln console`; resolves to the exit code. */
export async function run(args: string[], io: ConsoleIo = {}): Promise<number> {
  const write = io.write ?? defaultWrite;
  if (isHelpRequest(args)) {
    write(USAGE + "\n", "stdout");
    return 0;
  }
  let parsed;
  let inputs;
  let configType: ConsoleConfigType;
  try {
    parsed = parseCommandArgs(args, FLAGS);
    inputs = templateInputsFrom(parsed);
    const type = parsed.values["config-type"];
    if (type !== undefined && type !== "hcl2" && type !== "json") {
      throw new ArgsError(`invalid value "${type}" for flag -config-type: use hcl2 or json`);
    }
    configType = type;
    if (parsed.positionals.length > 1) {
      throw new ArgsError(`at most one template is expected, got ${parsed.positionals.length}`);
    }
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    write(`${err.message}\n\n${USAGE}\n`, "stderr");
    return 1;
  }
  let evaluator: ConsoleEvaluator;
  try {
    const { openConsole } = await import("../template/console.ts");
    const { kilnRegistry } = await import("../registry.ts");
    evaluator = await openConsole(parsed.positionals[0], inputs, kilnRegistry, configType);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    const n = err.issues.length;
    write(`Failed to load the configuration: ${n} error${n === 1 ? "" : "s"} found:\n`, "stderr");
    for (const issue of err.issues) write(`  * ${formatIssue(issue)}\n`, "stderr");
    return 1;
  }
  const interactive = io.interactive ?? Deno.stdin.isTerminal();
  const lines = io.lines ?? stdinLines();
  return interactive
    ? await interactiveSession(evaluator, lines, write)
    : await pipedSession(evaluator, lines, write);
}

async function interactiveSession(
  evaluator: ConsoleEvaluator,
  lines: AsyncIterable<string>,
  write: NonNullable<ConsoleIo["write"]>,
): Promise<number> {
  write("> ", "stdout");
  for await (const line of lines) {
    const outcome = await evaluator.evaluate(line);
    if (outcome.exit) return 0;
    if (outcome.error !== undefined) write(outcome.error + "\n", "stderr");
    else write(outcome.output + "\n", "stdout");
    write("> ", "stdout");
  }
  // Control-D: end the prompt's line so the shell's prompt starts on its own.
  write("\n", "stdout");
  return 0;
}

async function pipedSession(
  evaluator: ConsoleEvaluator,
  lines: AsyncIterable<string>,
  write: NonNullable<ConsoleIo["write"]>,
): Promise<number> {
  let last = "";
  let failed = false;
  for await (const line of lines) {
    const outcome = await evaluator.evaluate(line);
    if (outcome.error !== undefined) {
      write(outcome.error + "\n", "stderr");
      failed = true;
    }
    // Packer keeps going after `exit` here too; only the last line's result is shown.
    last = outcome.output;
  }
  write(last + "\n", "stdout");
  return failed ? 1 : 0;
}
