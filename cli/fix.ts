/**
 * `kiln fix [-validate=false] TEMPLATE`: prints the template with every
 * backwards incompatibility Packer 1.6.6's `packer fix` knows rewritten
 * (iso_md5, iso_checksum_type, ssh_key_path, ssh_host_port_min on qemu,
 * manifest's filename, virtualbox → virtualbox-iso, ...), as the same JSON
 * text `packer fix` prints, so the two can be diffed. With -validate (the
 * default, as in Packer) the fixed template is then checked the way
 * Packer's fix checks it (structure, build names), and a failure exits 1
 * after printing. Unlike `packer fix`, duplicate keys are refused (a fix
 * would silently drop one of the values; kiln never accepts them).
 */
import { parseJsonSource, SourceSyntaxError } from "../template/source.ts";
import { parseSourceText, templateFromDoc, throwProblems } from "../template/parse.ts";
import { checkTemplateReferences } from "../template/select.ts";
import { formatIssue, TemplateError } from "../template/types.ts";
import { fixedTemplateText, FixError, FIXERS, fixTemplate } from "../template/fix/mod.ts";
import { isObject } from "../template/values.ts";
import { ArgsError, isHelpRequest, parseCommandArgs } from "./args.ts";
import { type CommandOutput, commandOutput } from "./machine_readable.ts";

const FLAGS = {
  validate: { type: "boolean" as const },
  "machine-readable": { type: "boolean" as const },
};

/** The usage text, listing the fixers in the order they run (as `packer fix -h`). */
export function usage(): string {
  const lines = FIXERS.map((f) => `  ${f.name.padEnd(27)}${f.synopsis}`);
  return `Usage: kiln fix [options] TEMPLATE

  Reads the JSON template and attempts to fix known backwards
  incompatibilities. The fixed template will be outputted to standard out.

  If the template cannot be fixed due to an error, the command will exit
  with a non-zero exit status. Error messages will appear on standard error.

Fixes that are run (in order):

${lines.join("\n")}

Options:

  -validate=true      If true (default), validates the fixed template.`;
}

/** Where the command writes; defaults to stdout/stderr (`-machine-readable`: all to stdout). */
export interface FixIo {
  write?: (text: string, stream: "stdout" | "stderr") => void;
}

const HINT = "This is usually caused by an error in the input template.\n" +
  "Please fix the error and try again.";

/** Runs `kiln fix`; resolves to the exit code. */
export async function run(args: string[], io: FixIo = {}): Promise<number> {
  let out = commandOutput(false, io.write);
  const error = (text: string) => out.error(text);
  let validate = true;
  let file: string;
  try {
    if (isHelpRequest(args)) {
      out.say(usage());
      return 0;
    }
    const parsed = parseCommandArgs(args, FLAGS);
    if (parsed.values.validate === false) validate = false;
    out = commandOutput(parsed.values["machine-readable"] === true, io.write);
    if (parsed.positionals.length !== 1) {
      throw new ArgsError(
        parsed.positionals.length === 0
          ? "a template file is required"
          : `exactly one template file is expected, got ${parsed.positionals.length}`,
      );
    }
    file = parsed.positionals[0];
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    error(`${err.message}\n\n${usage()}`);
    return 1;
  }

  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    error(`Error opening template ${file}: ${err instanceof Error ? err.message : err}`);
    return 1;
  }
  let fixedText: string;
  try {
    const doc = await parseSourceText(text, file, "json");
    throwProblems(doc.problems, file);
    if (!isObject(doc.value)) {
      error(`Error parsing template: ${file}: a template must be a JSON object`);
      return 1;
    }
    fixedText = fixedTemplateText(fixTemplate(doc.value));
  } catch (err) {
    if (err instanceof TemplateError) {
      error(
        `Error parsing template:\n${err.issues.map((i) => `  * ${formatIssue(i)}`).join("\n")}`,
      );
      return 1;
    }
    if (err instanceof FixError) {
      error(`Error fixing ${file}: ${err.path}: ${err.message}`);
      return 1;
    }
    throw err;
  }
  // Packer's encoder ends the JSON with a newline and its UI adds another.
  out.say(`${fixedText}\n`);
  if (!validate) return 0;
  return checkFixed(fixedText, file, out);
}

/** Packer's -validate: the fixed text must parse as a template and name real builds. */
function checkFixed(text: string, file: string, out: CommandOutput): number {
  const error = (message: string) => out.error(message);
  let template;
  try {
    template = templateFromDoc(parseJsonSource(text), file, "json", "");
  } catch (err) {
    if (!(err instanceof TemplateError || err instanceof SourceSyntaxError)) throw err;
    const said = err instanceof TemplateError
      ? err.issues.map((i) => `  * ${i.path}: ${i.message}`).join("\n")
      : `  * ${err.message}`;
    error(`Error! Fixed template fails to parse:\n${said}\n\n${HINT}`);
    return 1;
  }
  const problems: string[] = [];
  checkTemplateReferences(template, (path, message) => problems.push(`  * ${path}: ${message}`));
  if (problems.length > 0) {
    error(`Error! Fixed template failed to validate:\n${problems.join("\n")}\n\n${HINT}`);
    return 1;
  }
  return 0;
}
