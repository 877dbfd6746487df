/**
 * `hcl2_upgrade`: turns a parsed JSON/YAML template into an equivalent HCL2
 * file, laid out like Packer's `hcl2_upgrade` output (variables sorted by
 * name, one `source` per builder named as Packer names it, one `build`
 * block) and fixed where Packer 1.6.6's output means something else than
 * the JSON did (see docs/hcl2_upgrade.md). Whether an option is written as
 * an attribute or as nested blocks comes from the component's schema.
 */
import type { ConfigSchema, FieldSpec } from "../schema.ts";
import type { BuilderDef, PostProcessorDef, ProvisionerDef, Template } from "../types.ts";
import { isObject } from "../values.ts";
import { decodedOption } from "../decode.ts";
import {
  newUse,
  type StringScope,
  translateString,
  type TranslationUse,
} from "./upgrade_strings.ts";
import {
  attr,
  BLANK,
  block,
  type BodyItem,
  comment,
  quoteLiteral,
  renderFile,
} from "./upgrade_write.ts";

/** Finds a component's schema; undefined for a type kiln does not know. */
export type SchemaLookup = (
  kind: "builder" | "provisioner" | "post-processor",
  type: string,
) => Promise<ConfigSchema | undefined>;

/** The HCL2 text and what could not be carried over exactly. */
export interface UpgradeResult {
  hcl: string;
  /** One line per Go-template call left untranslated (also written as comments). */
  notes: string[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Go's time.Duration.String() of a number of milliseconds ("5m0s", "1.5s", "500ms"). */
export function goDuration(ms: number): string {
  let ns = BigInt(Math.round(ms * 1e6));
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  if (neg) ns = -ns;
  const frac = (v: bigint, unit: bigint): string => {
    const whole = v / unit;
    const rest = v % unit;
    if (rest === 0n) return String(whole);
    const digits = String(unit).length - 1;
    return `${whole}.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
  };
  let out: string;
  if (ns < 1000n) out = `${ns}ns`;
  else if (ns < 1000_000n) out = `${frac(ns, 1000n)}µs`;
  else if (ns < 1000_000_000n) out = `${frac(ns, 1000_000n)}ms`;
  else {
    const h = ns / 3600_000_000_000n;
    const m = (ns / 60_000_000_000n) % 60n;
    const s = frac(ns % 60_000_000_000n, 1000_000_000n);
    out = h > 0n ? `${h}h${m}m${s}s` : m > 0n ? `${m}m${s}s` : `${s}s`;
  }
  return neg ? "-" + out : out;
}

/** Writes values as HCL expressions, translating the Go templates in strings. */
class ValueWriter {
  constructor(readonly scope: StringScope, readonly use: TranslationUse) {}

  string(s: string): string {
    return `"${translateString(s, this.scope, this.use)}"`;
  }

  key(k: string): string {
    if (IDENT.test(k) && !k.includes("{{")) return k;
    return this.string(k);
  }

  /** The expression's lines; nested lines are indented relative to the first. */
  expr(v: unknown): string[] {
    if (v === null || v === undefined) return ["null"];
    if (typeof v === "string") return [this.string(v)];
    if (typeof v === "number" || typeof v === "boolean") return [String(v)];
    if (Array.isArray(v)) {
      const items = v.map((x) => this.expr(x));
      if (items.every((lines) => lines.length === 1)) {
        return [`[${items.map((lines) => lines[0]).join(", ")}]`];
      }
      const out = ["["];
      for (const lines of items) {
        out.push(...lines.map((l, i) => "  " + l + (i === lines.length - 1 ? "," : "")));
      }
      out.push("]");
      return out;
    }
    if (isObject(v)) {
      const entries = Object.entries(v);
      if (entries.length === 0) return ["{}"];
      const rendered = entries.map(([k, x]) => ({ k: this.key(k), lines: this.expr(x) }));
      const out = ["{"];
      let i = 0;
      while (i < rendered.length) {
        let j = i;
        while (j < rendered.length && rendered[j].lines.length === 1) j++;
        if (j === i) j = i + 1;
        const run = rendered.slice(i, j);
        const width = run.length > 1 ? Math.max(...run.map((r) => r.k.length)) : 0;
        for (const r of run) {
          out.push(`  ${r.k.padEnd(width)} = ${r.lines[0]}`);
          out.push(...r.lines.slice(1).map((l) => "  " + l));
        }
        i = j;
      }
      out.push("}");
      return out;
    }
    return [JSON.stringify(v)];
  }
}

const SCALARS = new Set(["string", "number", "boolean"]);

/** Packer's guess when no schema knows the option: an object holding objects is a block. */
function guessBlocks(v: unknown): "block" | "blocks" | "attr" | "drop" {
  if (isObject(v)) {
    return Object.values(v).some((x) => !SCALARS.has(typeof x) && x !== null) ? "block" : "attr";
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return "drop";
    return v.some(isObject) && v.every(isObject) ? "blocks" : "attr";
  }
  return "attr";
}

/** Converts a value the way kiln's decoder would read it, where HCL2 would not convert it. */
function coerce(v: unknown, spec: FieldSpec | undefined): unknown {
  if (!spec) return v;
  const templated = JSON.stringify(v).includes("{{");
  switch (spec.type) {
    case "string_list":
    case "string_lists":
    case "string_map":
    case "string": {
      // JSON splits "a,b" on commas and lifts a lone value into a list, writes
      // true as "1"; HCL2 converts none of that: write what the decoder reads.
      if (templated) {
        if (spec.type === "string_list" && !Array.isArray(v) && !isObject(v)) return [v];
        return v;
      }
      return decodedOption(v, spec)?.value ?? v;
    }
    case "duration":
      return typeof v === "number" ? goDuration(v / 1e6) : v;
    case "bool":
      if (typeof v === "number") return v !== 0;
      if (typeof v === "string" && ["1", "t", "T", "TRUE", "true", "True"].includes(v)) {
        return true;
      }
      if (typeof v === "string" && ["0", "f", "F", "FALSE", "false", "False", ""].includes(v)) {
        return false;
      }
      return v;
    default:
      return v;
  }
}

/** The body items for a component's options, sorted by key as Packer writes them. */
function configBody(
  config: Record<string, unknown>,
  schema: ConfigSchema | undefined,
  w: ValueWriter,
  first: BodyItem[] = [],
): BodyItem[] {
  const out: BodyItem[] = [...first];
  for (const key of Object.keys(config).sort()) {
    const spec = schema?.fields[key];
    const value = coerce(config[key], spec);
    const shape = spec
      ? spec.type === "list_of_objects" && Array.isArray(value) && value.every(isObject)
        ? "blocks"
        : spec.type === "list_of_objects" && isObject(value)
        ? "block"
        : spec.type === "object" && isObject(value)
        ? "block"
        : "attr"
      : guessBlocks(value);
    if (shape === "drop") continue;
    if (shape === "attr") out.push(attr(key, w.expr(value)));
    else {
      const items = shape === "block" ? [value] : value as unknown[];
      for (const item of items) {
        out.push(block(key, [], configBody(item as Record<string, unknown>, spec?.item, w)));
      }
    }
  }
  return out;
}

/**
 * A source's HCL2 name: the builder's JSON name, even when that is just its
 * type. Packer writes `autogenerated_N` there, but the source's name is what
 * the build sees as PACKER_BUILD_NAME, `{{.BuildName}}` (default compress and
 * checksum file names) and the manifest's `name`: keeping it keeps the result.
 */
interface SourceRef {
  def: BuilderDef;
  /** The name in the `source` block. */
  name: string;
}

/** Builders sorted as Packer sorts them (type + name), named as Packer names them. */
function sourceRefs(t: Template): SourceRef[] {
  const sorted = [...t.builders].sort((a, b) =>
    a.type + a.name < b.type + b.name ? -1 : a.type + a.name > b.type + b.name ? 1 : 0
  );
  return sorted.map((def) => ({ def, name: def.name.trim().replaceAll(" ", "_") }));
}

/**
 * Converts a parsed template to HCL2 text. `lookup` supplies each component's
 * schema (kept a parameter so the template layer imports no components).
 */
export async function upgradeTemplate(
  t: Template,
  lookup: SchemaLookup,
): Promise<UpgradeResult> {
  const notes: string[] = [];
  let timestamp = false;
  /** Runs `f` with a fresh TranslationUse; returns its items with any notes as a comment first. */
  const withUse = (scope: StringScope, f: (w: ValueWriter) => BodyItem[]): BodyItem[] => {
    const use = newUse();
    const items = f(new ValueWriter(scope, use));
    if (use.timestamp) timestamp = true;
    const unique = [...new Set(use.notes)];
    notes.push(...unique);
    return unique.length ? [comment(unique.join("\n")), ...items] : items;
  };

  // Variables: a default that calls more than `env` becomes a local (HCL2
  // variables are static), and references to it read `local.x`.
  const locals = new Set<string>();
  const declared = { ...t.variables };
  // JSON reads an undeclared variable as "" unless a flag or var-file sets
  // it; HCL2 needs a declaration, and this one keeps that meaning.
  const undeclared = new Set<string>();
  for (const name of referencedUserVariables(t)) {
    if (!Object.hasOwn(declared, name) && IDENT.test(name)) {
      declared[name] = { default: "", sensitive: false };
      undeclared.add(name);
    }
  }
  const names = Object.keys(declared).sort();
  for (const name of names) {
    const d = declared[name].default;
    if (d === null) continue;
    const probe = newUse();
    translateString(d, { where: "variable", locals: new Set() }, probe);
    if (probe.needsLocal) locals.add(name);
  }
  const top: BodyItem[] = [];
  if (t.minPackerVersion !== undefined) {
    top.push(
      block("packer", [], [attr("required_version", quoteLiteral(`>= ${t.minPackerVersion}`))]),
    );
  }
  const varScope: StringScope = { where: "variable", locals };
  const localAttrs: BodyItem[] = [];
  const sensitiveLocals: BodyItem[] = [];
  for (const name of names) {
    const v = declared[name];
    if (locals.has(name)) {
      // Locals may use anything a build may: translate as in the build block.
      const scope: StringScope = { where: "local", locals };
      const items = withUse(scope, (w) => [attr(name, w.expr(v.default))]);
      if (v.sensitive) {
        sensitiveLocals.push(
          BLANK,
          block("local", [name], [
            ...items.filter((i) => i.kind === "comment"),
            attr("expression", (items.find((i) => i.kind === "attr") as { lines: string[] }).lines),
            attr("sensitive", "true"),
          ]),
        );
      } else localAttrs.push(...items);
      continue;
    }
    const body = withUse(varScope, (w) => {
      const items: BodyItem[] = [attr("type", "string")];
      if (v.default !== null) items.push(attr("default", w.expr(v.default)));
      if (v.sensitive) items.push(attr("sensitive", "true"));
      return items;
    });
    if (undeclared.has(name)) {
      body.unshift(comment(`not declared in the JSON template, where it read as "" unless set`));
    }
    top.push(block("variable", [name], body));
  }

  // Sources.
  const refs = sourceRefs(t);
  const sourceBlocks: BodyItem[] = [];
  for (const ref of refs) {
    const schema = await lookup("builder", ref.def.type);
    const scope: StringScope = {
      where: "source",
      locals,
      buildName: ref.def.name,
      buildType: ref.def.type,
    };
    const items = withUse(scope, (w) => configBody(ref.def.config, schema, w));
    const comments = items.filter((i) => i.kind === "comment");
    sourceBlocks.push(
      ...comments,
      block("source", [ref.def.type, ref.name], items.filter((i) => i.kind !== "comment")),
    );
  }

  // The build block.
  const byJsonName = new Map(refs.map((r) => [r.def.name, r]));
  const buildScope: StringScope = { where: "build", locals };
  const onlyList = (names: string[] | undefined) =>
    names?.map((n) => {
      const ref = byJsonName.get(n);
      return ref ? `${ref.def.type}.${ref.name}` : n;
    });
  const buildBody: BodyItem[] = [];
  if (t.description !== undefined) {
    buildBody.push(attr("description", quoteLiteral(t.description)), BLANK);
  }
  buildBody.push(
    attr(
      "sources",
      `[${refs.map((r) => quoteLiteral(`source.${r.def.type}.${r.name}`)).join(", ")}]`,
    ),
  );
  const provisionerBlock = async (kind: string, p: ProvisionerDef): Promise<BodyItem[]> => {
    const schema = await lookup("provisioner", p.type);
    const cfg: Record<string, unknown> = { ...p.config };
    if (p.only?.length) cfg.only = onlyList(p.only);
    if (p.except?.length) cfg.except = onlyList(p.except);
    // A string, as Packer writes it (HCL2 converts it to the number).
    if (p.maxRetries !== undefined) cfg.max_retries = String(p.maxRetries);
    if (p.timeout) cfg.timeout = goDuration(p.timeout);
    if (p.pauseBefore) cfg.pause_before = goDuration(p.pauseBefore);
    if (p.override && Object.keys(p.override).length) {
      // HCL2 matches override keys against the source's name.
      const o: Record<string, unknown> = {};
      for (const [name, opts] of Object.entries(p.override)) {
        o[byJsonName.get(name)?.name ?? name] = opts;
      }
      cfg.override = o;
    }
    const common = new Set([
      "only",
      "except",
      "max_retries",
      "timeout",
      "pause_before",
      "override",
    ]);
    const items = withUse(buildScope, (w) => {
      const body = configBody(
        Object.fromEntries(Object.entries(cfg).filter(([k]) => !common.has(k))),
        schema,
        w,
      );
      for (const k of [...common].filter((k) => k in cfg)) body.push(attr(k, w.expr(cfg[k])));
      return sortAttrs(body);
    });
    return [
      BLANK,
      ...items.filter((i) => i.kind === "comment"),
      block(kind, [p.type], items.filter((i) => i.kind !== "comment")),
    ];
  };
  for (const p of t.provisioners) buildBody.push(...await provisionerBlock("provisioner", p));
  if (t.errorCleanupProvisioner) {
    // A JSON template's error-cleanup-provisioner runs for every build, whatever
    // its only/except say; in HCL2 they would apply.
    const { only: _only, except: _except, ...ecp } = t.errorCleanupProvisioner;
    buildBody.push(...await provisionerBlock("error-cleanup-provisioner", ecp));
  }
  const postProcessorBlock = async (pp: PostProcessorDef): Promise<BodyItem[]> => {
    const schema = await lookup("post-processor", pp.type);
    const items = withUse(buildScope, (w) => {
      const first: BodyItem[] = [];
      if (pp.keepInputArtifact !== undefined) {
        first.push(attr("keep_input_artifact", String(pp.keepInputArtifact)));
      }
      const body = configBody(pp.config, schema, w);
      if (pp.name !== undefined && pp.name !== pp.type) body.push(attr("name", w.expr(pp.name)));
      if (pp.only?.length) body.push(attr("only", w.expr(onlyList(pp.only))));
      if (pp.except?.length) body.push(attr("except", w.expr(onlyList(pp.except))));
      return [...first, ...sortAttrs(body)];
    });
    return [
      ...items.filter((i) => i.kind === "comment"),
      block("post-processor", [pp.type], items.filter((i) => i.kind !== "comment")),
    ];
  };
  for (const chain of t.postProcessors) {
    buildBody.push(BLANK);
    if (chain.length === 1) buildBody.push(...await postProcessorBlock(chain[0]));
    else {
      const inner: BodyItem[] = [];
      for (const pp of chain) inner.push(...await postProcessorBlock(pp));
      buildBody.push(block("post-processors", [], inner));
    }
  }

  const file: BodyItem[] = [];
  const push = (items: BodyItem[]) => {
    for (const item of items) {
      const last = file[file.length - 1]?.kind;
      const separate = last !== undefined && last !== "blank";
      if (item.kind === "blank") {
        if (separate) file.push(item);
        continue;
      }
      // One blank line between top-level blocks; a comment stays on its block.
      if (separate && (item.kind === "comment" || last !== "comment")) file.push(BLANK);
      file.push(item);
    }
  };
  push(top);
  const stamp = 'regex_replace(timestamp(), "[- TZ:]", "")';
  if (timestamp && localAttrs.length === 0) {
    // Packer's one-line form, which `packer fmt` leaves as it is.
    push([BLANK]);
    file.push({ kind: "raw", text: `locals { timestamp = ${stamp} }` });
  } else {
    if (timestamp) localAttrs.unshift(attr("timestamp", stamp));
    if (localAttrs.length) push([block("locals", [], localAttrs)]);
  }
  push(sensitiveLocals);
  push(sourceBlocks);
  if (refs.length > 0) push([block("build", [], buildBody)]);
  return { hcl: renderFile(file), notes };
}

/** Attributes sorted by name (as Packer writes them), blocks after them in order. */
function sortAttrs(items: BodyItem[]): BodyItem[] {
  const attrs = items.filter((i) => i.kind === "attr") as Extract<BodyItem, { kind: "attr" }>[];
  const rest = items.filter((i) => i.kind !== "attr");
  return [...attrs.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0), ...rest];
}

/** Every `{{user `x`}}` name a template's strings use (declared or from a var-file). */
function referencedUserVariables(t: Template): Set<string> {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      for (const m of v.matchAll(/\{\{-?\s*user\s+[`"]([^`"]+)[`"]\s*-?\}\}/g)) found.add(m[1]);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        walk(k);
        walk(x);
      }
    }
  };
  for (const v of Object.values(t.variables)) walk(v.default);
  for (const b of t.builders) walk(b.config);
  const provs = [
    ...t.provisioners,
    ...(t.errorCleanupProvisioner ? [t.errorCleanupProvisioner] : []),
  ];
  for (const p of provs) {
    walk(p.config);
    walk(p.override);
  }
  for (const chain of t.postProcessors) for (const pp of chain) walk(pp.config);
  return found;
}
