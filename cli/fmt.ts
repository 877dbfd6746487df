/**
 * `kiln fmt [options] [TARGET]`: rewrites HCL2 configuration files
 * (`*.pkr.hcl`, `*.pkrvars.hcl`) in canonical layout, as `packer fmt` does.
 * TARGET is a file, a directory (default: the current one) or `-` for
 * stdin to stdout. Prints the name of every file that was (or, with -check
 * or -write=false, would be) changed; exit 3 under -check when one was.
 * A file that does not parse is left alone and reported with its position.
 */
import { join } from "node:path";
import { formatHcl } from "../template/hcl/fmt.ts";
import { checkHclSyntax } from "../template/hcl/syntax_check.ts";
import { ArgsError, flagHelp, type FlagSpecs, isHelpRequest, parseCommandArgs } from "./args.ts";
import { unifiedDiff } from "./unified_diff.ts";

const FLAGS: FlagSpecs = {
  check: {
    type: "boolean",
    help: "-check        Check if the input is formatted. Exit status will be 0 if all\n" +
      "                 input is properly formatted and 3 otherwise.",
  },
  diff: { type: "boolean", help: "-diff         Display diffs of formatting change" },
  write: {
    type: "boolean",
    help:
      "-write=false  Don't write to source files\n                (always disabled if using -check)",
  },
  recursive: {
    type: "boolean",
    help: "-recursive    Also process files in subdirectories. By default, only the\n" +
      "                given directory (or current directory) is processed.",
  },
};

const USAGE = `Usage: kiln fmt [options] [TARGET]

  Rewrites all Packer configuration files to a canonical format. Both
  configuration files (.pkr.hcl) and variable files (.pkrvars.hcl) are updated.
  JSON files (.json) are not modified.

  If TARGET is not specified or is ".", the current directory is used. If
  TARGET is "-", the configuration is read from standard input and the
  formatted result is written to standard output.

Options:
${flagHelp(FLAGS)}`;

/** Exit status of -check when some input is not formatted (Packer's). */
export const EXIT_NOT_FORMATTED = 3;

/** Where the command reads and writes; the defaults are the process's own. */
export interface FmtIo {
  write?: (text: string, stream: "stdout" | "stderr") => void;
  readStdin?: () => Promise<string>;
}

interface Options {
  check: boolean;
  diff: boolean;
  write: boolean;
  recursive: boolean;
}

/** Runs `kiln fmt`; resolves to the exit code. */
export async function run(args: string[], io: FmtIo = {}): Promise<number> {
  const write = io.write ?? defaultWrite;
  if (isHelpRequest(args)) {
    write(USAGE + "\n", "stdout");
    return 0;
  }
  let options: Options;
  let target: string;
  try {
    const parsed = parseCommandArgs(args, FLAGS);
    if (parsed.positionals.length > 1) {
      throw new ArgsError(`at most one target is expected, got ${parsed.positionals.length}`);
    }
    target = parsed.positionals[0] ?? ".";
    const check = parsed.values.check === true;
    options = {
      check,
      diff: parsed.values.diff === true,
      // -check never writes (as in Packer).
      write: !check && parsed.values.write !== false,
      recursive: parsed.values.recursive === true,
    };
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    write(`${err.message}\n\n${USAGE}\n`, "stderr");
    return 1;
  }

  const errors: string[] = [];
  let changed = 0;
  const formatOne = async (path: string) => {
    try {
      if (await formatFile(path, options, io, write)) changed++;
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      errors.push(`Error: encountered an error while formatting ${path}\n\n${detail}\n`);
    }
  };

  if (target === "-") {
    await formatOne("-");
  } else {
    let info: Deno.FileInfo | undefined;
    try {
      info = await Deno.stat(target);
    } catch {
      // A missing file is reported by formatFile, with the reason.
    }
    if (info?.isDirectory) {
      try {
        for (const file of await hclFiles(target, options.recursive)) await formatOne(file);
      } catch (err) {
        errors.push(`Error: Cannot read hcl directory\n\n${(err as Error).message}\n`);
      }
    } else await formatOne(target);
  }

  for (const e of errors) write(e + "\n", "stderr");
  if (errors.length > 0) return 1;
  return options.check && changed > 0 ? EXIT_NOT_FORMATTED : 0;
}

function defaultWrite(text: string, stream: "stdout" | "stderr"): void {
  const bytes = new TextEncoder().encode(text);
  const out = stream === "stdout" ? Deno.stdout : Deno.stderr;
  for (let n = 0; n < bytes.length;) n += out.writeSync(bytes.subarray(n));
}

function isHclFile(name: string): boolean {
  return name.endsWith(".pkr.hcl") || name.endsWith(".pkrvars.hcl");
}

/** Editor leftovers and hidden files are never formatted (Packer skips them too). */
function ignored(name: string): boolean {
  return name.startsWith(".") || name.endsWith("~") || (name.startsWith("#") && name.endsWith("#"));
}

/** The HCL files of a directory in name order, then (recursive) those of its subdirectories. */
async function hclFiles(dir: string, recursive: boolean): Promise<string[]> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    if (ignored(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      if (recursive) files.push(...await hclFiles(path, true));
    } else if (isHclFile(entry.name)) files.push(path);
  }
  return files;
}

/** Formats one file (or stdin for "-"); resolves to whether its layout changed. */
async function formatFile(
  path: string,
  options: Options,
  io: FmtIo,
  write: NonNullable<FmtIo["write"]>,
): Promise<boolean> {
  const stdin = path === "-";
  if (!stdin && !isHclFile(path)) throw new Error(`file ${path} is not a HCL file`);
  let source: string;
  try {
    source = stdin
      ? await (io.readStdin ?? (() => new Response(Deno.stdin.readable).text()))()
      : await Deno.readTextFile(path);
  } catch (err) {
    throw new Error(`failed to read ${path}: ${(err as Error).message}`);
  }
  const syntaxError = checkHclSyntax(source);
  if (syntaxError) {
    const name = stdin ? "<stdin>" : path;
    throw new Error(`${name}:${syntaxError.line}:${syntaxError.column}: ${syntaxError.message}`);
  }
  const formatted = formatHcl(source);
  if (formatted === source) {
    if (stdin) write(source, "stdout");
    return false;
  }
  if (!stdin) write(`${path}\n`, "stdout");
  if (options.write) {
    if (stdin) write(formatted, "stdout");
    else await Deno.writeTextFile(path, formatted);
  }
  // A diff of stdin would be mixed into the formatted output, so Packer never shows one.
  if (options.diff && !stdin) {
    write(unifiedDiff(source, formatted, `old/${path}`, `new/${path}`), "stdout");
  }
  return true;
}
