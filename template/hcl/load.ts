/**
 * The HCL2 front end: reads a configuration (a file or a directory), its
 * variables files and inputs, evaluates variables, locals and data sources,
 * and produces the same `Template` the JSON front end does, with variables
 * already resolved. Every problem is reported at once as HCL diagnostics.
 */
import { cwd } from "node:process";
import { dirname, isAbsolute, normalize, resolve } from "node:path";
import type { HclFile, Range } from "./ast.ts";
import { type Diagnostic, DiagnosticError, error } from "./diagnostic.ts";
import type { Scope } from "./eval.ts";
import { hclFunctions } from "./functions/mod.ts";
import { renderTemplateFile } from "./template_file.ts";
import { configFiles, displayName } from "./files.ts";
import { parseHcl } from "./syntax.ts";
import { parseHclJson } from "./json_syntax.ts";
import {
  declareVariables,
  jsonVarFileInputs,
  resolveVariables,
  varFileInputs,
  type VariableInput,
} from "./variables.ts";
import { type DataSourceRunner, evaluateLocalsAndData } from "./graph.ts";
import { buildModel, type BuildOutline, type ShapeLookup } from "./builds.ts";
import { checkPackerBlock } from "./packer_block.ts";
import type { Template, TemplateInputs } from "../types.ts";
import type { Position } from "../source.ts";
import { setTemplatePositions } from "../parse.ts";
import type { HclFunction, Value } from "./value.ts";
import { PACKER_HCL_COMPAT_VERSION } from "../../version.ts";

/** What the HCL front end needs from the layers above it. */
export interface HclLoadOptions {
  /** Nested-block shapes of component options, from the component registry. */
  shapes: ShapeLookup;
  /** Data sources, from the component registry. */
  dataSources?: DataSourceRunner;
  /** Built-in plugin sources kiln satisfies in `required_plugins` (e.g. github.com/hashicorp/qemu). */
  builtinPlugins?: readonly string[];
  /** Environment (PKR_VAR_*, env()); defaults to the process environment. */
  env?: Record<string, string>;
  /** The clock for timestamp(); defaults to now. */
  now?: Date;
  /** `inspect`: a required variable without a value is shown as unknown, not refused. */
  allowUnset?: boolean;
  /** Function library; defaults to Packer's. */
  functions?: Record<string, HclFunction>;
}

/** A loaded HCL configuration. */
export interface HclTemplate {
  template: Template;
  /** Texts of every file read, by display name, for rendering diagnostics. */
  sources: Map<string, string>;
  warnings: Diagnostic[];
  /** What `inspect` shows: variables and locals (sensitive ones flagged) and the build blocks. */
  outline: {
    variables: { name: string; value: Value; sensitive: boolean }[];
    locals: { name: string; value: Value; sensitive: boolean }[];
    builds: BuildOutline[];
  };
  /** Every name an expression in the configuration sees (var, local, data, path, packer), for `console`. */
  scope: Scope;
}

/** Thrown with every diagnostic and the texts needed to show them. */
export class HclConfigError extends DiagnosticError {
  /** Texts of the files the diagnostics point into. */
  readonly sources: Map<string, string>;
  constructor(diagnostics: Diagnostic[], sources: Map<string, string>) {
    super(diagnostics);
    this.name = "HclConfigError";
    this.sources = sources;
  }
}

const TOP_BLOCKS = new Set([
  "packer",
  "variable",
  "variables",
  "locals",
  "local",
  "source",
  "build",
  "data",
]);

async function sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function leaves(v: Value, out: string[]): void {
  if (typeof v === "string" || typeof v === "number") {
    if (String(v) !== "") out.push(String(v));
  } else if (Array.isArray(v)) v.forEach((x) => leaves(x, out));
  else if (v && typeof v === "object") Object.values(v).forEach((x) => leaves(x, out));
}

/** A configuration's files, parsed, with what was found wrong at their top level. */
interface ParsedConfig {
  layout: Awaited<ReturnType<typeof configFiles>>;
  files: HclFile[];
  sources: Map<string, string>;
  problems: Diagnostic[];
  remember(name: string, text: string): Promise<void>;
  /** Reads and parses one more file (a variables file), its problems joining `problems`. */
  read(file: string): Promise<HclFile | undefined>;
  digestParts: string[];
  fileDigests: Record<string, string>;
}

/**
 * Reads and parses every file of a configuration and checks its top-level
 * blocks; throws HclConfigError when nothing can be read or parsed.
 */
async function readConfig(path: string): Promise<ParsedConfig> {
  const sources = new Map<string, string>();
  const problems: Diagnostic[] = [];
  let layout;
  try {
    layout = await configFiles(path);
  } catch (err) {
    throw new HclConfigError([
      error(
        "Cannot read configuration",
        `${path}: ${err instanceof Error ? err.message : String(err)}`,
      ),
    ], sources);
  }
  if (layout.config.length === 0) {
    throw new HclConfigError([
      error("No configuration files", `${path} holds no *.pkr.hcl or *.pkr.json file.`),
    ], sources);
  }
  const digestParts: string[] = [];
  const fileDigests: Record<string, string> = {};
  const remember = async (name: string, text: string) => {
    fileDigests[name] = await sha256(text);
    digestParts.push(`${name}\n${fileDigests[name]}`);
  };
  const read = async (file: string): Promise<HclFile | undefined> => {
    const name = displayName(file);
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (err) {
      problems.push(
        error("Cannot read file", `${name}: ${err instanceof Error ? err.message : String(err)}`),
      );
      return undefined;
    }
    sources.set(name, text);
    await remember(name, text);
    try {
      return file.endsWith(".json") ? await parseHclJson(name, text) : await parseHcl(name, text);
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      problems.push(...err.diagnostics);
      return undefined;
    }
  };
  const files = (await Promise.all(layout.config.map(read))).filter((f): f is HclFile => !!f);
  if (problems.length > 0) throw new HclConfigError(problems, sources);
  for (const f of files) {
    for (const a of f.body.attributes) {
      problems.push(
        error(
          "Unsupported argument",
          `An argument named "${a.name}" is not expected at the top level of a configuration file.`,
          a.nameRange,
        ),
      );
    }
    for (const b of f.body.blocks) {
      if (!TOP_BLOCKS.has(b.type)) {
        problems.push(
          error(
            "Unsupported block type",
            `Blocks of type "${b.type}" are not expected here (a configuration holds ${
              [...TOP_BLOCKS].join(", ")
            }).`,
            b.typeRange,
          ),
        );
      }
    }
  }
  return { layout, files, sources, problems, remember, read, digestParts, fileDigests };
}

/**
 * `validate -syntax-only`, as Packer: every file parses and holds only the
 * blocks a configuration may hold; nothing is evaluated. Throws
 * HclConfigError listing every problem.
 */
export async function checkHclConfigSyntax(
  path: string,
): Promise<{ sources: Map<string, string>; digest: string }> {
  const parsed = await readConfig(path);
  if (parsed.problems.length > 0) throw new HclConfigError(parsed.problems, parsed.sources);
  return {
    sources: parsed.sources,
    digest: await sha256(parsed.digestParts.sort().join("\n")),
  };
}

/** Loads and evaluates an HCL configuration. Throws HclConfigError listing every problem. */
export async function loadHclTemplate(
  path: string,
  inputs: TemplateInputs,
  options: HclLoadOptions,
): Promise<HclTemplate> {
  const env = options.env ?? Deno.env.toObject();
  const { layout, files, sources, problems, remember, read, digestParts, fileDigests } =
    await readConfig(path);
  const functions = { ...(options.functions ?? hclFunctions(renderTemplateFile)) };
  const now = options.now ?? new Date();
  // Relative paths in file functions resolve against the configuration's directory (abspath
  // uses the working directory), as in Packer; path.root is that directory as the user wrote it.
  const fnContext = { baseDir: layout.dir, now };
  const roots: Record<string, Value> = {
    path: { root: rootAsGiven(path, layout.dir), cwd: cwd() },
    packer: { version: PACKER_HCL_COMPAT_VERSION },
  };
  const envFn: HclFunction = {
    params: ["key"],
    call: ([k]) => env[String(k)] ?? "",
  };
  const noVars: Scope = {
    lookup: (n) => roots[n],
    functions: { ...functions, env: envFn },
    context: fnContext,
  };
  problems.push(...checkPackerBlock(files, noVars, options.builtinPlugins));
  let decls;
  try {
    decls = declareVariables(files, noVars);
  } catch (err) {
    if (!(err instanceof DiagnosticError)) throw err;
    throw new HclConfigError([...problems, ...err.diagnostics], sources);
  }
  // Inputs in precedence order, lowest first: environment, auto files, then -var/-var-file as given.
  const varInputs: VariableInput[] = [];
  for (const [k, v] of Object.entries(env).sort()) {
    if (k.startsWith("PKR_VAR_")) {
      varInputs.push({
        name: k.slice(8),
        value: { text: v },
        origin: { label: k },
        strictness: "ignore",
      });
    }
  }
  const varFile = async (file: string, strictness: VariableInput["strictness"]) => {
    if (file.endsWith(".json")) {
      const name = displayName(file);
      try {
        const text = await Deno.readTextFile(file);
        sources.set(name, text);
        await remember(name, text);
        varInputs.push(...jsonVarFileInputs(name, text, strictness));
      } catch (err) {
        if (err instanceof DiagnosticError) problems.push(...err.diagnostics);
        else {problems.push(
            error(
              "Cannot read file",
              `${name}: ${err instanceof Error ? err.message : String(err)}`,
            ),
          );}
      }
      return;
    }
    const f = await read(file);
    if (!f) return;
    try {
      varInputs.push(...varFileInputs(f, noVars, strictness));
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      problems.push(...err.diagnostics);
    }
  };
  for (const file of layout.autoVars) await varFile(file, "warning");
  for (const v of inputs.vars ?? []) {
    if (v.kind === "file") await varFile(isAbsolute(v.path) ? v.path : resolve(v.path), "warning");
    else {varInputs.push({
        name: v.name,
        value: { text: v.value },
        origin: { label: `-var ${v.name}` },
        strictness: "error",
      });}
  }
  if (problems.length > 0) throw new HclConfigError(problems, sources);
  let resolved;
  try {
    resolved = await resolveVariables(
      decls,
      varInputs,
      { ...noVars, functions },
      options.allowUnset,
    );
  } catch (err) {
    if (!(err instanceof DiagnosticError)) throw err;
    throw new HclConfigError(err.diagnostics, sources);
  }
  const marked: Value[] = [...resolved.sensitive];
  const forbidden = {
    env:
      `The env function is only available in variable default values: declare a variable with default = env("NAME") and use var.<name>.`,
  };
  const withVars: Scope = {
    lookup: (n) => n === "var" ? resolved.values : roots[n],
    functions,
    forbidden,
    context: fnContext,
    markSensitive: (v) => marked.push(v),
  };
  // A function's error may quote its argument: what is sensitive by then is masked.
  const maskedError = (diagnostics: Diagnostic[]) => {
    const secrets: string[] = [];
    marked.forEach((v) => leaves(v, secrets));
    const longestFirst = [...new Set(secrets)].sort((a, b) => b.length - a.length);
    const mask = (text: string) =>
      longestFirst.reduce((t, secret) => t.replaceAll(secret, "<sensitive>"), text);
    return new HclConfigError(
      diagnostics.map((d) => ({ ...d, summary: mask(d.summary), detail: mask(d.detail) })),
      sources,
    );
  };
  let evaluated;
  try {
    evaluated = await evaluateLocalsAndData(files, withVars, options.dataSources);
  } catch (err) {
    if (!(err instanceof DiagnosticError)) throw err;
    throw maskedError(err.diagnostics);
  }
  marked.push(...evaluated.sensitive);
  const full: Scope = {
    ...withVars,
    lookup: (n) =>
      n === "local" ? evaluated.local : n === "data" ? evaluated.data : withVars.lookup(n),
  };
  let model;
  try {
    model = await buildModel(files, full, options.shapes);
  } catch (err) {
    if (!(err instanceof DiagnosticError)) throw err;
    throw maskedError(err.diagnostics);
  }
  const secrets: string[] = [];
  marked.forEach((v) => leaves(v, secrets));
  const variables: Record<string, string> = {};
  for (const [k, v] of Object.entries(resolved.values)) {
    variables[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  digestParts.sort();
  const template: Template = {
    file: resolve(path),
    dir: layout.dir,
    format: "hcl",
    variables: {},
    builders: model.builders,
    provisioners: model.provisioners,
    postProcessors: model.postProcessors,
    errorCleanupProvisioners: model.errorCleanupProvisioners,
    digest: await sha256(digestParts.join("\n")),
    files: [...sources.keys()],
    fileDigests,
    resolved: { variables, secrets: [...new Set(secrets)] },
  };
  const positions = new Map<string, Position>();
  for (const [p, r] of model.ranges) positions.set(p, position(r));
  setTemplatePositions(template, positions);
  const sensitiveNames = new Set([...decls.values()].filter((d) => d.sensitive).map((d) => d.name));
  const outline = {
    variables: [...decls.keys()].sort().map((name) => ({
      name,
      value: Object.hasOwn(resolved.values, name) ? resolved.values[name] : "<unknown>",
      sensitive: sensitiveNames.has(name),
    })),
    locals: Object.keys(evaluated.local).sort().map((name) => ({
      name,
      value: evaluated.local[name],
      sensitive: evaluated.sensitive.includes(evaluated.local[name]),
    })),
    builds: model.outline,
  };
  return { template, sources, warnings: resolved.warnings, outline, scope: full };
}

function rootAsGiven(path: string, dir: string): string {
  if (dir === resolve(path)) return normalize(path).replace(/\/$/, "") || ".";
  return dirname(path) || ".";
}

function position(r: Range): Position {
  return { line: r.start.line, column: r.start.column, file: r.file };
}
