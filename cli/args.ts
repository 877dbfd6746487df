/**
 * Command-line flags in Packer's spelling (`-var k=v`, `-only=a,b`,
 * `-color=false`) and the `--long` spelling, on top of node:util parseArgs.
 * Repeatable flags keep their command-line order (`-var` and `-var-file`
 * interleave: a later one overrides an earlier one).
 */
import { parseArgs } from "node:util";
import type { TemplateInputs } from "../template/types.ts";

/** One flag a command accepts. */
export interface FlagSpec {
  type: "string" | "boolean";
  /** May be given several times; every value is kept, in order. */
  multiple?: boolean;
  /** One line for the command's usage text, e.g. "-var 'key=value'  Variable for templates". */
  help?: string;
}

/** A command's flags by their long name (without dashes). */
export type FlagSpecs = Record<string, FlagSpec>;

/** The result of parsing. */
export interface ParsedArgs {
  /** Last value of each single flag; every value (in order) of a `multiple` one. */
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Every flag occurrence in command-line order. */
  ordered: { name: string; value: string | boolean }[];
}

/** A usage error: unknown flag, missing value, bad value. */
export class ArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArgsError";
  }
}

const TRUE = ["1", "t", "T", "true", "TRUE", "True"];
const FALSE = ["0", "f", "F", "false", "FALSE", "False"];

/** Whether the arguments ask for the command's usage (`-h`, `-help`, `--help`). */
export function isHelpRequest(args: readonly string[]): boolean {
  return args.some((a) => ["-h", "-help", "--help"].includes(a));
}

/** Parses `args` against `specs`. Throws ArgsError on bad usage. */
export function parseCommandArgs(args: string[], specs: FlagSpecs): ParsedArgs {
  const normalized: string[] = [];
  const forcedFalse = new Map<number, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      normalized.push(...args.slice(i));
      break;
    }
    if (arg === "-") {
      // A lone dash is a positional (Packer: read the template from stdin).
      normalized.push(arg);
      continue;
    }
    const m = /^--?([^=]+)(?:=([\s\S]*))?$/.exec(arg);
    if (!m || !arg.startsWith("-")) {
      normalized.push(arg);
      continue;
    }
    const [, name, value] = m;
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) throw new ArgsError(`flag provided but not defined: -${name}`);
    if (spec.type === "boolean" && value !== undefined) {
      // Go's flag package accepts -flag=false; parseArgs does not, so resolve it here.
      if (TRUE.includes(value)) normalized.push(`--${name}`);
      else if (FALSE.includes(value)) forcedFalse.set(normalized.length, name);
      else throw new ArgsError(`invalid boolean value "${value}" for -${name}`);
      continue;
    }
    normalized.push(value === undefined ? `--${name}` : `--${name}=${value}`);
  }
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = spec.multiple ? { type: spec.type, multiple: true } : { type: spec.type };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: normalized,
      options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const missing = /Option '--([^ ]+?)(?: <value>)?' argument missing/.exec(message) ??
      /Option '--([^ ']+)/.exec(message);
    throw new ArgsError(
      missing ? `flag needs an argument: -${missing[1].replace(/ .*/, "")}` : message,
    );
  }
  const ordered: ParsedArgs["ordered"] = [];
  const falseAt = [...forcedFalse.entries()];
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== "option") continue;
    while (falseAt.length > 0 && falseAt[0][0] <= token.index) {
      ordered.push({ name: falseAt.shift()![1], value: false });
    }
    ordered.push({ name: token.name, value: token.value ?? true });
  }
  for (const [, name] of falseAt) ordered.push({ name, value: false });
  const values: ParsedArgs["values"] = {};
  for (const { name, value } of ordered) {
    if (specs[name].multiple) {
      const list = (values[name] as string[] | undefined) ?? [];
      list.push(String(value));
      values[name] = list;
    } else values[name] = value;
  }
  return { values, positionals: parsed.positionals, ordered };
}

/** The flags every template command takes: -var, -var-file, -only, -except. */
export const TEMPLATE_INPUT_FLAGS: FlagSpecs = {
  "var": {
    type: "string",
    multiple: true,
    help: "-var 'key=value'       Variable for templates, can be used multiple times.",
  },
  "var-file": {
    type: "string",
    multiple: true,
    help: "-var-file=path         JSON file containing user variables.",
  },
  "only": { type: "string", multiple: true, help: "-only=foo,bar,baz      Only these builds." },
  "except": {
    type: "string",
    multiple: true,
    help: "-except=foo,bar,baz    All builds other than these.",
  },
  "machine-readable": {
    type: "boolean",
    help: "-machine-readable      Produce machine-readable output.",
  },
};

/** Builds TemplateInputs from parsed -var/-var-file/-only/-except flags, keeping their order. */
export function templateInputsFrom(parsed: ParsedArgs): TemplateInputs {
  const vars: NonNullable<TemplateInputs["vars"]> = [];
  for (const { name, value } of parsed.ordered) {
    if (name === "var") {
      const text = String(value);
      const eq = text.indexOf("=");
      if (eq < 0) {
        throw new ArgsError(`invalid value "${text}" for flag -var: No '=' value in arg: ${text}`);
      }
      vars.push({ kind: "var", name: text.slice(0, eq), value: text.slice(eq + 1) });
    } else if (name === "var-file") vars.push({ kind: "file", path: String(value) });
  }
  const list = (name: string) =>
    ((parsed.values[name] as string[] | undefined) ?? []).flatMap((v) => v.split(","))
      .map((s) => s.trim()).filter((s) => s !== "");
  const only = list("only");
  const except = list("except");
  return {
    vars,
    only: only.length > 0 ? only : undefined,
    except: except.length > 0 ? except : undefined,
  };
}

/** Formats the option lines of a usage text from the specs' help. */
export function flagHelp(specs: FlagSpecs): string {
  return Object.values(specs).filter((s) => s.help).map((s) => `  ${s.help}`).join("\n");
}
