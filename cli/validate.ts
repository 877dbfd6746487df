/**
 * `kiln validate [-var ...] [-var-file ...] [-only/-except] [-syntax-only] TEMPLATE`:
 * exit 0 and no output when the template is valid (as Packer 1.6.6), else exit 1 listing every problem with
 * its file, position, JSON path and what was expected. Never a stack trace.
 * Imports only the template layer and the lazy registries, so it starts fast.
 */
import { prepareTemplate } from "../template/prepare.ts";
import { kilnRegistry } from "../registry.ts";
import { formatIssue, TemplateError } from "../template/types.ts";
import {
  ArgsError,
  flagHelp,
  type FlagSpecs,
  isHelpRequest,
  parseCommandArgs,
  TEMPLATE_INPUT_FLAGS,
  templateInputsFrom,
} from "./args.ts";
import { type CommandOutput, commandOutput } from "./machine_readable.ts";

const FLAGS: FlagSpecs = {
  ...TEMPLATE_INPUT_FLAGS,
  "syntax-only": {
    type: "boolean",
    help: "-syntax-only           Only check syntax. Do not verify config of the template.",
  },
};

const USAGE = `Usage: kiln validate [options] TEMPLATE

  Checks the template is valid by parsing the template and also
  checking the configuration with the various builders, provisioners, etc.

  If it is not valid, the errors will be shown and the command will exit
  with a non-zero exit status. If it is valid, it will exit with a zero
  exit status.

Options:

${flagHelp(FLAGS)}`;

/** Options for driving validate in-process (tests, fuzzing). */
export interface ValidateIo {
  /** Receives everything the command writes; defaults to stdout/stderr. */
  write?: (text: string, stream: "stdout" | "stderr") => void;
}

/** Reports a TemplateError's issues, one per line. */
export function reportIssues(out: CommandOutput, err: TemplateError, header: string): void {
  const n = err.issues.length;
  out.error(`${header}: ${n} error${n === 1 ? "" : "s"} found:`);
  for (const issue of err.issues) out.error(`  * ${formatIssue(issue)}`);
}

/** Runs `kiln validate`; resolves to the exit code. */
export async function run(args: string[], io: ValidateIo = {}): Promise<number> {
  if (isHelpRequest(args)) {
    commandOutput(false, io.write).say(USAGE);
    return 0;
  }
  let parsed;
  let inputs;
  try {
    parsed = parseCommandArgs(args, FLAGS);
    inputs = templateInputsFrom(parsed);
    if (parsed.positionals.length !== 1) {
      throw new ArgsError(
        parsed.positionals.length === 0
          ? "a template file is required"
          : `exactly one template file is expected, got ${parsed.positionals.length}`,
      );
    }
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    const out = commandOutput(false, io.write);
    out.error(`${err.message}\n\n${USAGE}`);
    return 1;
  }
  const out = commandOutput(parsed.values["machine-readable"] === true, io.write);
  const file = parsed.positionals[0];
  const syntaxOnly = parsed.values["syntax-only"] === true;
  try {
    // Packer's validate refuses an existing output directory (it has no -force).
    await prepareTemplate(file, inputs, {
      registry: kilnRegistry,
      syntaxOnly,
      freshOutputs: true,
    });
  } catch (err) {
    if (err instanceof TemplateError) {
      reportIssues(out, err, "Template validation failed");
      return 1;
    }
    out.error(
      `kiln: internal error while validating ${file}: ${
        err instanceof Error ? err.message : String(err)
      }`,
    );
    return 1;
  }
  // Packer 1.6.6 says nothing when a full validation passes (exit 0 is the
  // answer); only -syntax-only confirms itself.
  if (syntaxOnly) out.say("Syntax-only check passed. Everything looks okay.");
  return 0;
}
