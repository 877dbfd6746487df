/**
 * Reads a JSON or YAML template into a structurally checked `Template`:
 * root keys, builder/provisioner/post-processor definitions and their common
 * keys, with Packer 1.6.6's accept/reject decisions. Nothing is interpolated
 * and components' own options are left for decode.ts.
 */
import {
  type BuilderDef,
  type PostProcessorDef,
  type ProvisionerDef,
  type Template,
  TemplateError,
  type TemplateIssue,
  type VariableDef,
} from "./types.ts";
import {
  childPath,
  parseJsonSource,
  type Position,
  positionOf,
  setOwn,
  type SourceDoc,
  type SourceProblem,
  SourceSyntaxError,
} from "./source.ts";
import { parseYamlSource } from "./yaml_source.ts";
import {
  durationOutOfRange,
  MAX_DURATION_TEXT,
  nanosecondsOutOfRange,
  parseDuration,
} from "./duration.ts";
import { isObject, weakString } from "./values.ts";
import { checkLegacyRootKeys, LEGACY_ROOT_KEYS } from "./root_legacy.ts";

const ROOT_KEYS = new Set([
  "builders",
  "provisioners",
  "post-processors",
  "variables",
  "sensitive-variables",
  "description",
  "min_packer_version",
  "error-cleanup-provisioner",
]);

const DURATION_RANGE = `value out of range (a duration is at most ${MAX_DURATION_TEXT})`;

const positionsByTemplate = new WeakMap<Template, Map<string, Position>>();

/** Records where a front end (HCL) found each path of a template it built. */
export function setTemplatePositions(template: Template, positions: Map<string, Position>): void {
  positionsByTemplate.set(template, positions);
}

/** Where a JSON path (or its nearest written ancestor) of a parsed template starts. */
export function locate(template: Template, path: string): Position | undefined {
  return positionOf(positionsByTemplate.get(template), path);
}

/** Collects issues for one file, each placed at its value when the parser saw it. */
export class IssueList {
  readonly issues: TemplateIssue[] = [];
  constructor(readonly file: string, private positions?: Map<string, Position>) {}
  add(path: string, message: string): void {
    const pos = positionOf(this.positions, path);
    this.issues.push({ file: this.file, path, message, line: pos?.line, column: pos?.column });
  }
  /** Throws TemplateError when anything was added. */
  throwIfAny(): void {
    if (this.issues.length > 0) throw new TemplateError(this.issues);
  }
}

function stringList(
  v: unknown,
  path: string,
  issues: IssueList,
  weak: boolean,
): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    issues.add(path, "expected an array of strings");
    return undefined;
  }
  const out: string[] = [];
  v.forEach((item, i) => {
    const s = weak ? weakString(item) : typeof item === "string" ? item : undefined;
    if (s === undefined) issues.add(childPath(path, i), "expected a string");
    else out.push(s);
  });
  return out;
}

function durationOption(v: unknown, path: string, issues: IssueList): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number") {
    // Nanoseconds. Past int64 Packer silently gets garbage (no pause, no timeout); kiln refuses.
    if (!nanosecondsOutOfRange(v)) return Math.trunc(v) / 1e6;
    issues.add(path, `expected a duration, got ${v} nanoseconds: ${DURATION_RANGE}`);
    return undefined;
  }
  if (typeof v !== "string") {
    issues.add(path, `expected a duration such as "10s" or "1h5m2s"`);
    return undefined;
  }
  const ms = parseDuration(v);
  if (ms === undefined) {
    issues.add(
      path,
      durationOutOfRange(v)
        ? `invalid duration ${JSON.stringify(v)}: ${DURATION_RANGE}`
        : `invalid duration ${JSON.stringify(v)} (e.g. "10s", "1h5m2s")`,
    );
  }
  return ms;
}

function parseProvisioner(
  raw: unknown,
  path: string,
  issues: IssueList,
): ProvisionerDef | undefined {
  if (!isObject(raw)) {
    issues.add(path, 'expected a provisioner definition (an object with a "type")');
    return undefined;
  }
  const type = weakString(raw.type);
  if (raw.type !== undefined && type === undefined) {
    issues.add(childPath(path, "type"), "expected a string");
  }
  if (!type) {
    issues.add(path, "provisioner missing 'type'");
    return undefined;
  }
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (
      !["type", "only", "except", "override", "pause_before", "max_retries", "timeout"].includes(k)
    ) {
      setOwn(config, k, v);
    }
  }
  const def: ProvisionerDef = { type, config, path };
  def.only = stringList(raw.only, childPath(path, "only"), issues, true);
  def.except = stringList(raw.except, childPath(path, "except"), issues, true);
  if (raw.override !== undefined && raw.override !== null) {
    if (!isObject(raw.override)) {
      issues.add(childPath(path, "override"), "expected an object of build name → options");
    } else {
      def.override = {};
      for (const [name, opts] of Object.entries(raw.override)) {
        const p = childPath(childPath(path, "override"), name);
        if (!isObject(opts)) issues.add(p, "expected an object of provisioner options");
        else setOwn(def.override, name, opts);
      }
    }
  }
  def.pauseBefore = durationOption(raw.pause_before, childPath(path, "pause_before"), issues);
  def.timeout = durationOption(raw.timeout, childPath(path, "timeout"), issues);
  if (raw.max_retries !== undefined && raw.max_retries !== null) {
    const r = raw.max_retries;
    // Packer reads max_retries as a string and Atoi()s it: 2.5 is refused, and so is
    // anything past int64 ("value out of range").
    const n = typeof r === "number" && Number.isInteger(r)
      ? BigInt(r)
      : typeof r === "string" && /^[+-]?\d+$/.test(r)
      ? BigInt(r)
      : undefined;
    if (n === undefined) {
      issues.add(childPath(path, "max_retries"), "`max_retries` must be a valid integer");
    } else if (n >= 2n ** 63n || n < -(2n ** 63n)) {
      issues.add(
        childPath(path, "max_retries"),
        "`max_retries` must be a valid integer: value out of range (at most 9223372036854775807)",
      );
    } else def.maxRetries = Number(n);
  }
  return def;
}

function parsePostProcessor(
  raw: unknown,
  path: string,
  issues: IssueList,
): PostProcessorDef | undefined {
  if (typeof raw === "string") return { type: raw, config: {}, path };
  if (!isObject(raw)) {
    issues.add(path, "unknown post-processor format: expected a type name or an object");
    return undefined;
  }
  const def: PostProcessorDef = { type: "", config: {}, path };
  if (typeof raw.type !== "string" && raw.type !== undefined && raw.type !== null) {
    issues.add(childPath(path, "type"), "expected a string");
  } else def.type = (raw.type as string | undefined) ?? "";
  if (!def.type) issues.add(path, "post-processor type is required");
  if (raw.name !== undefined && raw.name !== null) {
    if (typeof raw.name !== "string") issues.add(childPath(path, "name"), "expected a string");
    else if (raw.name !== "") def.name = raw.name;
  }
  if (raw.keep_input_artifact !== undefined && raw.keep_input_artifact !== null) {
    if (typeof raw.keep_input_artifact !== "boolean") {
      issues.add(childPath(path, "keep_input_artifact"), "expected true or false");
    } else def.keepInputArtifact = raw.keep_input_artifact;
  }
  def.only = stringList(raw.only, childPath(path, "only"), issues, false);
  def.except = stringList(raw.except, childPath(path, "except"), issues, false);
  for (const [k, v] of Object.entries(raw)) {
    if (!["type", "name", "keep_input_artifact", "only", "except"].includes(k)) {
      setOwn(def.config, k, v);
    }
  }
  return def.type ? def : undefined;
}

/** Builds the Template from an already parsed document; every structural issue is reported. */
export function templateFromDoc(
  doc: SourceDoc,
  file: string,
  format: "json" | "yaml",
  digest: string,
): Template {
  // Packer refuses these before it looks at the template's structure.
  throwProblems(doc.problems, file);
  const issues = new IssueList(file, doc.positions);
  const root = doc.value;
  if (!isObject(root)) {
    issues.add("", 'a template must be an object with a "builders" array');
    issues.throwIfAny();
  }
  const r = root as Record<string, unknown>;
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) || "/" : ".";
  const t: Template = {
    file,
    dir,
    format,
    variables: {},
    builders: [],
    provisioners: [],
    postProcessors: [],
    digest,
  };
  for (const [key, value] of Object.entries(r)) {
    if (ROOT_KEYS.has(key) || LEGACY_ROOT_KEYS.has(key)) continue;
    if (key.startsWith("_")) {
      if (typeof value !== "string") {
        issues.add(childPath("", key), "a root level comment must be a string");
      }
      continue;
    }
    issues.add(
      childPath("", key),
      `unknown root level key in template: '${key}' (comments must start with "_")`,
    );
  }
  checkLegacyRootKeys(r, (path, message) => issues.add(path, message));
  for (const key of ["description", "min_packer_version"] as const) {
    const v = r[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") issues.add(key, "expected a string");
    else if (key === "description") t.description = v;
    else t.minPackerVersion = v;
  }

  // Variables: a string default, or null for a required variable.
  const sensitive = stringList(r["sensitive-variables"], "sensitive-variables", issues, false) ??
    [];
  if (r.variables !== undefined && r.variables !== null) {
    if (!isObject(r.variables)) {
      issues.add("variables", "expected an object of name → default value");
    } else {
      for (const [name, v] of Object.entries(r.variables)) {
        if (v !== null && typeof v !== "string") {
          issues.add(
            childPath("variables", name),
            "a variable's default must be a string (or null to make it required)",
          );
          continue;
        }
        setOwn(
          t.variables,
          name,
          { default: v, sensitive: sensitive.includes(name) } as VariableDef,
        );
      }
    }
  }

  // Builders: names default to the type and must be unique.
  const b = r.builders;
  if (b !== undefined && b !== null && !Array.isArray(b)) {
    issues.add("builders", "expected an array of builder definitions");
  } else if (Array.isArray(b)) {
    const seen = new Set<string>();
    b.forEach((raw, i) => {
      const path = childPath("builders", i);
      if (!isObject(raw)) {
        issues.add(path, 'expected a builder definition (an object with a "type")');
        return;
      }
      const type = weakString(raw.type);
      if (raw.type !== undefined && raw.type !== null && type === undefined) {
        issues.add(childPath(path, "type"), "expected a string");
        return;
      }
      if (!type) {
        issues.add(path, "builder missing 'type'");
        return;
      }
      const name = weakString(raw.name) || type;
      if (raw.name !== undefined && raw.name !== null && weakString(raw.name) === undefined) {
        issues.add(childPath(path, "name"), "expected a string");
        return;
      }
      if (seen.has(name)) {
        issues.add(path, `builder with name '${name}' already exists (build names must be unique)`);
        return;
      }
      seen.add(name);
      const config: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) {
        if (k !== "type" && k !== "name") setOwn(config, k, v);
      }
      t.builders.push({ type, name, config, path } as BuilderDef);
    });
  }

  const p = r.provisioners;
  if (p !== undefined && p !== null && !Array.isArray(p)) {
    issues.add("provisioners", "expected an array of provisioner definitions");
  } else if (Array.isArray(p)) {
    p.forEach((raw, i) => {
      const def = parseProvisioner(raw, childPath("provisioners", i), issues);
      if (def) t.provisioners.push(def);
    });
  }
  const ecp = r["error-cleanup-provisioner"];
  if (ecp !== undefined && ecp !== null) {
    const def = parseProvisioner(ecp, "error-cleanup-provisioner", issues);
    if (def) t.errorCleanupProvisioner = def;
  }

  // Post-processors: "name", {...} and [ ... ] all become chains.
  const pp = r["post-processors"];
  if (pp !== undefined && pp !== null && !Array.isArray(pp)) {
    issues.add("post-processors", "expected an array of post-processor definitions");
  } else if (Array.isArray(pp)) {
    pp.forEach((raw, i) => {
      const path = childPath("post-processors", i);
      if (Array.isArray(raw)) {
        const chain: PostProcessorDef[] = [];
        raw.forEach((inner, j) => {
          const innerPath = childPath(path, j);
          if (Array.isArray(inner)) {
            issues.add(innerPath, "sequence not allowed to be nested in a sequence");
            return;
          }
          const def = parsePostProcessor(inner, innerPath, issues);
          if (def) chain.push(def);
        });
        if (chain.length > 0) t.postProcessors.push(chain);
      } else if (typeof raw === "string" || isObject(raw)) {
        const def = parsePostProcessor(raw, path, issues);
        if (def) t.postProcessors.push([def]);
      } else {
        issues.add(path, "bad post-processor format: expected a type name, an object or an array");
      }
    });
  }
  issues.throwIfAny();
  positionsByTemplate.set(t, doc.positions);
  return t;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return [...new Uint8Array(hash)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** Absolute form of a path, resolved against the working directory. */
export function absolutePath(file: string): string {
  if (file.startsWith("/")) return file;
  const cwd = Deno.cwd();
  const parts = `${cwd}/${file}`.split("/");
  const out: string[] = [];
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/** Reads a file's text; an unreadable file becomes a TemplateError naming it. */
export async function readSourceFile(file: string, what: string): Promise<Uint8Array> {
  try {
    if (file === "-") return new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
    return await Deno.readFile(file);
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : err instanceof Error
      ? err.message
      : String(err);
    throw new TemplateError([{ file, path: "", message: `cannot read ${what}: ${reason}` }]);
  }
}

/** Throws a TemplateError listing `problems` (duplicate keys, numbers out of range), if any. */
export function throwProblems(problems: SourceProblem[], file: string): void {
  if (problems.length === 0) return;
  throw new TemplateError(
    problems.map(({ path, message, line, column }) => ({ file, path, message, line, column })),
  );
}

/** Parses text as JSON or YAML into a SourceDoc, turning syntax errors into issues. */
export async function parseSourceText(
  text: string,
  file: string,
  format: "json" | "yaml",
): Promise<SourceDoc> {
  try {
    return format === "yaml" ? await parseYamlSource(text) : parseJsonSource(text);
  } catch (err) {
    if (err instanceof SourceSyntaxError) {
      throw new TemplateError([{
        file,
        path: err.path,
        message: `error parsing ${format === "yaml" ? "YAML" : "JSON"}: ${err.message}`,
        line: err.line,
        column: err.column,
      }]);
    }
    throw new TemplateError([{
      file,
      path: "",
      message: `error parsing template: ${String(err)}`,
    }]);
  }
}

/** "yaml" for .yaml/.yml files, else "json". */
export function formatOf(file: string): "json" | "yaml" {
  return /\.ya?ml$/i.test(file) ? "yaml" : "json";
}

/**
 * Decodes a file's bytes as UTF-8. Like Packer (Go's encoding/json), a JSON
 * file may not start with a byte order mark; YAML allows one.
 */
export function decodeSourceBytes(
  bytes: Uint8Array,
  file: string,
  what: string,
  format: "json" | "yaml",
): string {
  if (format === "json" && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new TemplateError([{
      file,
      path: "",
      message: `the ${what} starts with a UTF-8 byte order mark, which JSON does not allow ` +
        `(save it as UTF-8 without BOM)`,
      line: 1,
      column: 1,
    }]);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new TemplateError([{ file, path: "", message: `the ${what} is not valid UTF-8 text` }]);
  }
}

/**
 * Reads and structurally checks a template file (JSON, or YAML for .yaml/.yml;
 * "-" reads JSON from stdin, as Packer does).
 */
export async function parseTemplate(file: string): Promise<Template> {
  const abs = absolutePath(file);
  const bytes = await readSourceFile(file, "template");
  const format = formatOf(file);
  const text = decodeSourceBytes(bytes, file, "template", format);
  const doc = await parseSourceText(text, file, format);
  const t = templateFromDoc(doc, file, format, await sha256Hex(bytes));
  t.file = abs;
  t.dir = abs.slice(0, abs.lastIndexOf("/")) || "/";
  return t;
}

/** SHA-256 of some text, hex. */
export function digestText(text: string): Promise<string> {
  return sha256Hex(new TextEncoder().encode(text));
}
