/**
 * The HCL2 side of `console`: one line is one expression, evaluated against
 * a configuration's variables, locals and data sources (or against nothing
 * when there is no configuration). Results and errors come back as text,
 * with the values of sensitive variables and of `sensitive()` masked.
 */
import type { ConsoleEvaluator, ConsoleOutcome } from "../console.ts";
import type { Diagnostic } from "./diagnostic.ts";
import { DiagnosticError, error, renderDiagnostics } from "./diagnostic.ts";
import { evaluate, type Scope } from "./eval.ts";
import { hclFunctions } from "./functions/mod.ts";
import type { HclTemplate } from "./load.ts";
import { formatResult, goQuote } from "./print.ts";
import { parseHcl } from "./syntax.ts";
import { renderTemplateFile } from "./template_file.ts";
import type { Value } from "./value.ts";
import { PACKER_HCL_COMPAT_VERSION } from "../../version.ts";

/** The file name diagnostics about a console line point into. */
export const CONSOLE_INPUT = "<console-input>";

// The line is parsed as the value of an attribute: this prefix, taken back off every position.
const PREFIX = "v = ";

const HELP = `kiln console, HCL2 mode.
Type an expression and press <enter> to see its value. The configuration's
variables (var.NAME), locals (local.NAME), data sources (data.TYPE.NAME),
path.root, path.cwd, packer.version and every HCL2 function are available,
e.g. upper(var.name) or jsonencode(local.settings).

"variables" lists the variables and locals with their values.
"exit" (or Control-D) leaves the console.

Go template expressions such as "{{timestamp}}" do not work in HCL2 mode.`;

/** What the HCL console needs from a loaded configuration (absent: an empty one). */
export interface HclConsoleConfig {
  scope: Scope;
  outline: HclTemplate["outline"];
  /** Strings that must never be shown (values of sensitive variables and locals). */
  secrets: readonly string[];
}

/** The scope of an empty configuration: functions and path/packer, no variables. */
export function emptyHclConsoleConfig(now = new Date()): HclConsoleConfig {
  const roots: Record<string, Value> = {
    var: {},
    local: {},
    // Packer shows an empty path.root when there is no configuration.
    path: { root: "", cwd: Deno.cwd() },
    packer: { version: PACKER_HCL_COMPAT_VERSION },
  };
  return {
    scope: {
      lookup: (n) => roots[n],
      functions: hclFunctions(renderTemplateFile),
      forbidden: {
        env:
          `The env function is only available in variable default values: declare a variable with default = env("NAME") and use var.<name>.`,
      },
      context: { baseDir: Deno.cwd(), now },
    },
    outline: { variables: [], locals: [], builds: [] },
    secrets: [],
  };
}

/** An evaluator for console lines against `config`. */
export function hclConsole(config: HclConsoleConfig): ConsoleEvaluator {
  return {
    mode: "hcl2",
    evaluate: (line) => evaluateLine(line.trim(), config),
  };
}

async function evaluateLine(line: string, config: HclConsoleConfig): Promise<ConsoleOutcome> {
  if (line === "") return { output: "" };
  if (line === "exit") return { output: "", exit: true };
  if (line === "help") return { output: HELP };
  if (line === "variables") return { output: mask(listVariables(config), config.secrets) };
  const marked: Value[] = [];
  let parsing = true;
  try {
    const file = await parseHcl(CONSOLE_INPUT, PREFIX + line);
    parsing = false;
    const attr = file.body.attributes[0];
    if (file.body.blocks.length > 0 || file.body.attributes.length !== 1 || attr.name !== "v") {
      throw new DiagnosticError([
        error("Invalid expression", "A console line holds exactly one expression."),
      ]);
    }
    const scope: Scope = { ...config.scope, markSensitive: (v) => marked.push(v) };
    const value = evaluate(attr.expr, scope);
    return { output: mask(formatResult(value), secretsOf(config, marked)) };
  } catch (err) {
    if (!(err instanceof DiagnosticError)) throw err;
    const text = renderDiagnostics(
      err.diagnostics.map((d) => unshift(parsing ? asExpressionError(d) : d)),
      new Map([[CONSOLE_INPUT, line]]),
    );
    return { output: "", error: mask(text, secretsOf(config, marked)) };
  }
}

/** Packer's `variables` listing: each value in console form, quoted. */
function listVariables(config: HclConsoleConfig): string {
  const show = (prefix: string, v: { name: string; value: Value; sensitive: boolean }) =>
    `${prefix}.${v.name}: ${goQuote(v.sensitive ? "<sensitive>" : formatResult(v.value))}`;
  return [
    "> input-variables:",
    "",
    ...config.outline.variables.map((v) => show("var", v)),
    "",
    "> local-variables:",
    "",
    ...config.outline.locals.map((v) => show("local", v)),
    "",
  ].join("\n");
}

/** Syntax errors speak of files (attributes, blocks): say what is wrong with the expression. */
function asExpressionError(d: Diagnostic): Diagnostic {
  const m = /^unexpected "(.*)": not valid HCL here/s.exec(d.detail);
  if (!m) return d;
  const text = m[1].startsWith(PREFIX) ? m[1].slice(PREFIX.length) : m[1];
  return {
    ...d,
    summary: "Invalid expression",
    detail: `Unexpected "${text}": not a valid expression.`,
  };
}

function unshift(d: Diagnostic): Diagnostic {
  const r = d.range;
  if (!r || r.file !== CONSOLE_INPUT) return d;
  const back = (p: typeof r.start) =>
    p.line === 1
      ? {
        ...p,
        column: Math.max(1, p.column - PREFIX.length),
        offset: Math.max(0, p.offset - PREFIX.length),
      }
      : p;
  return { ...d, range: { ...r, start: back(r.start), end: back(r.end) } };
}

function secretsOf(config: HclConsoleConfig, marked: Value[]): string[] {
  const out = [...config.secrets];
  const leaves = (v: Value): void => {
    if (typeof v === "string" || typeof v === "number") {
      if (String(v) !== "") out.push(String(v));
    } else if (Array.isArray(v)) v.forEach(leaves);
    else if (v && typeof v === "object") Object.values(v).forEach(leaves);
  };
  marked.forEach(leaves);
  return out;
}

/** Packer masks secrets in everything it prints: every occurrence becomes `<sensitive>`. */
export function mask(text: string, secrets: readonly string[]): string {
  const longestFirst = [...new Set(secrets)].filter((s) => s !== "")
    .sort((a, b) => b.length - a.length);
  for (const s of longestFirst) text = text.replaceAll(s, "<sensitive>");
  return text;
}
