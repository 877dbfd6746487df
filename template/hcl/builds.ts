/**
 * `source` and `build` blocks → the builds of the prepared model: one builder
 * definition per source a build block uses, and the provisioners and
 * post-processors of that block restricted (`only`) to those builders, so the
 * shared preparation code treats HCL exactly as JSON.
 */
import type { Block, Expr, HclFile, Range } from "./ast.ts";
import { type Diagnostic, DiagnosticError, error } from "./diagnostic.ts";
import { childScope, evaluate, nearest, type Scope } from "./eval.ts";
import { evalBody, expandDynamic, type NestedShape, type RangeMap } from "./body.ts";
import type { BuilderDef, PostProcessorDef, ProvisionerDef } from "../types.ts";
import { parseDuration } from "../duration.ts";
import type { ObjectValue, Value } from "./value.ts";

/** Component kinds whose options have a schema. */
export type ComponentKind = "builder" | "provisioner" | "post-processor";

/** A component type kiln does not have, with the types of that kind it has. */
export interface UnknownType {
  unknown: true;
  known: string[];
}

/** The nested-block shape of a component type's options (undefined: none to give). */
export type ShapeLookup = (
  kind: ComponentKind,
  type: string,
) => Promise<NestedShape | undefined | UnknownType>;

/** What the build blocks turn into. */
export interface BuildModel {
  builders: BuilderDef[];
  provisioners: ProvisionerDef[];
  errorCleanupProvisioners: ProvisionerDef[];
  postProcessors: PostProcessorDef[][];
  /** Where each component path (and option below it) was written. */
  ranges: Map<string, Range>;
  /** Each build block as `inspect` shows it. */
  outline: BuildOutline[];
}

/** A build block's shape: its name, sources and component types. */
export interface BuildOutline {
  name?: string;
  sources: string[];
  provisioners: string[];
  postProcessors: string[][];
}

/** Values every build sees before it runs: `build.ID` and friends render at provision time. */
const BUILD_PLACEHOLDERS = [
  "ID",
  "Host",
  "Port",
  "User",
  "Password",
  "ConnType",
  "PackerRunUUID",
  "PackerHTTPAddr",
  "PackerHTTPIP",
  "PackerHTTPPort",
  "SSHPublicKey",
  "SSHPrivateKey",
  "WinRMPassword",
];

const PROVISIONER_COMMON = new Set([
  "only",
  "except",
  "override",
  "pause_before",
  "max_retries",
  "timeout",
  "name",
]);
const POST_PROCESSOR_COMMON = new Set(["only", "except", "keep_input_artifact", "name"]);
const BUILD_BLOCKS = new Set([
  "dynamic",
  "source",
  "provisioner",
  "error-cleanup-provisioner",
  "post-processor",
  "post-processors",
]);
const BUILD_ATTRS = new Set(["name", "description", "sources"]);

interface SourceDecl {
  type: string;
  name: string;
  block: Block;
}

interface Instance {
  /** The builder's full name: `type.name`, or `build.type.name` inside a named build. */
  full: string;
  source: SourceDecl;
  /** `name` given in an inline source block, else the source's own name. */
  name: string;
  overrides?: Block;
  ref: Range;
}

function problem(problems: Diagnostic[], err: unknown): void {
  if (!(err instanceof DiagnosticError)) throw err;
  problems.push(...err.diagnostics);
}

/** Reads sources and build blocks into the prepared model's definitions. */
export async function buildModel(
  files: HclFile[],
  scope: Scope,
  shapes: ShapeLookup,
): Promise<BuildModel> {
  const problems: Diagnostic[] = [];
  const sources = new Map<string, SourceDecl>();
  const builds: Block[] = [];
  for (const file of files) {
    for (const block of file.body.blocks) {
      if (block.type === "source") {
        if (block.labels.length !== 2) {
          problems.push(
            error(
              "Invalid source block",
              `A source block has two labels: the builder type and a name (source "qemu" "ubuntu").`,
              block.typeRange,
            ),
          );
          continue;
        }
        const key = `${block.labels[0]}.${block.labels[1]}`;
        const before = sources.get(key);
        if (before) {
          problems.push(
            error(
              "Duplicate source block",
              `This "source" block has the same builder type and name as a previous block declared at ${before.block.range.file}:${before.block.range.start.line}. Each source must have a unique name per builder type.`,
              block.labelRanges[1],
            ),
          );
        } else sources.set(key, { type: block.labels[0], name: block.labels[1], block });
      } else if (block.type === "build") builds.push(block);
    }
  }
  const model: BuildModel = {
    builders: [],
    provisioners: [],
    errorCleanupProvisioners: [],
    postProcessors: [],
    ranges: new Map(),
    outline: [],
  };
  const seenNames = new Map<string, Range>();
  for (const [bi, build] of builds.entries()) {
    try {
      await oneBuild(build, bi, sources, scope, shapes, model, seenNames, problems);
    } catch (err) {
      problem(problems, err);
    }
  }
  if (problems.length > 0) {
    // A provisioner of a build with several sources is evaluated once per
    // source: the same problem at the same place is said once.
    const seen = new Set<string>();
    throw new DiagnosticError(problems.filter((p) => {
      const key = `${p.summary}\n${p.detail}\n${rangeKey(p.range)}`;
      return !seen.has(key) && seen.add(key);
    }));
  }
  return model;
}

function buildName(build: Block, scope: Scope, problems: Diagnostic[]): string | undefined {
  const attr = build.body.attributes.find((a) => a.name === "name");
  if (!attr) return build.labels[0];
  try {
    const v = evaluate(attr.expr, scope);
    if (typeof v === "string") return v;
    problems.push(error("Invalid build name", "A build's name is a string.", attr.expr.range));
  } catch (err) {
    problem(problems, err);
  }
  return undefined;
}

/** `"source.qemu.x"`, `source.qemu.x` or `"qemu.x"` → "qemu.x". */
function sourceRef(e: Expr, scope: Scope): string | undefined {
  const parts: string[] = [];
  let x: Expr = e;
  while (x.kind === "getattr") {
    parts.unshift(x.name);
    x = x.target;
  }
  if (x.kind === "var" && x.name === "source" && parts.length === 2) return parts.join(".");
  const v = evaluate(e, scope);
  return typeof v === "string" ? v.replace(/^source\./, "") : undefined;
}

function rangeKey(r: Range | undefined): string | undefined {
  return r ? `${r.file}:${r.start.offset}` : undefined;
}

async function oneBuild(
  build: Block,
  bi: number,
  sources: Map<string, SourceDecl>,
  scope: Scope,
  shapes: ShapeLookup,
  model: BuildModel,
  seenNames: Map<string, Range>,
  problems: Diagnostic[],
): Promise<void> {
  const name = buildName(build, scope, problems);
  // An unknown type is reported with the configuration's other problems, once per block.
  const shapeOf = async (kind: ComponentKind, type: string, at: Range | undefined) => {
    const shape = await shapes(kind, type);
    if (!shape || !("unknown" in shape)) return shape;
    const key = at ? `${at.file}:${at.start.offset}` : `${kind}:${type}`;
    if (!problems.some((p) => p.summary.startsWith("Unknown ") && rangeKey(p.range) === key)) {
      problems.push(error(
        `Unknown ${kind} type`,
        `There is no ${kind} type "${type}" (kiln knows: ${shape.known.join(", ")}).`,
        at,
      ));
    }
    return undefined;
  };
  for (const a of build.body.attributes) {
    if (!BUILD_ATTRS.has(a.name)) {
      problems.push(
        error(
          "Unsupported argument",
          `An argument named "${a.name}" is not expected in a build block.${
            nearest(a.name, [...BUILD_ATTRS])
          }`,
          a.nameRange,
        ),
      );
    }
  }
  for (const b of build.body.blocks) {
    if (!BUILD_BLOCKS.has(b.type)) {
      problems.push(
        error(
          "Unsupported block type",
          `Blocks of type "${b.type}" are not expected in a build block.${
            nearest(b.type, [...BUILD_BLOCKS])
          }`,
          b.typeRange,
        ),
      );
    }
  }
  const instances: Instance[] = [];
  const use = (ref: string, range: Range, inline?: Block) => {
    const source = sources.get(ref);
    if (!source) {
      problems.push(
        error(
          "Unknown source",
          `There is no source "${ref}".${
            nearest(ref, [...sources.keys()])
          } A build refers to a source as "source.<type>.<name>".`,
          range,
        ),
      );
      return;
    }
    let instanceName = source.name;
    const nameAttr = inline?.body.attributes.find((a) => a.name === "name");
    if (nameAttr) {
      const v = evaluate(nameAttr.expr, scope);
      if (typeof v === "string") instanceName = v;
    }
    const full = `${name ? `${name}.` : ""}${source.type}.${instanceName}`;
    const before = seenNames.get(full);
    if (before) {
      problems.push(
        error(
          "Duplicate build",
          `A build named "${full}" is already defined at ${before.file}:${before.start.line}: give one of them another name.`,
          range,
        ),
      );
      return;
    }
    seenNames.set(full, range);
    instances.push({ full, source, name: instanceName, overrides: inline, ref: range });
  };
  const sourcesAttr = build.body.attributes.find((a) => a.name === "sources");
  if (sourcesAttr) {
    const e = sourcesAttr.expr;
    if (e.kind !== "tuple") {
      problems.push(
        error(
          "Invalid sources",
          `"sources" is a list of source references: ["source.<type>.<name>", ...].`,
          e.range,
        ),
      );
    } else {
      for (const item of e.items) {
        try {
          const ref = sourceRef(item, scope);
          if (ref === undefined) {
            problems.push(
              error(
                "Invalid source reference",
                `Write a source as "source.<type>.<name>".`,
                item.range,
              ),
            );
          } else use(ref, item.range);
        } catch (err) {
          problem(problems, err);
        }
      }
    }
  }
  for (const b of build.body.blocks.filter((b) => b.type === "source")) {
    if (b.labels.length !== 1) {
      problems.push(
        error(
          "Invalid source block",
          `A source block inside a build has one label: the source it uses ("<type>.<name>").`,
          b.typeRange,
        ),
      );
      continue;
    }
    try {
      use(b.labels[0].replace(/^source\./, ""), b.labelRanges[0], b);
    } catch (err) {
      problem(problems, err);
    }
  }
  const buildPrefix = `build[${bi}]`;
  model.outline.push({
    name,
    sources: instances.map((i) => `${i.source.type}.${i.name}`),
    provisioners: build.body.blocks.filter((b) => b.type === "provisioner").map((b) =>
      b.labels[0] ?? ""
    ),
    postProcessors: build.body.blocks.flatMap((b) =>
      b.type === "post-processor"
        ? [[b.labels[0] ?? ""]]
        : b.type === "post-processors"
        ? [b.body.blocks.map((x) => x.labels[0] ?? "")]
        : []
    ),
  });
  for (const inst of instances) {
    const path = `source.${inst.source.type}.${inst.source.name}`;
    const shape = await shapeOf("builder", inst.source.type, inst.source.block.labelRanges[0]);
    const srcScope = childScope(scope, { source: { name: inst.name, type: inst.source.type } });
    const ranges: RangeMap = new Map();
    try {
      const config = evalBody(inst.source.block.body, srcScope, shape ?? (() => undefined), ranges);
      if (inst.overrides) {
        const over = evalBody(
          inst.overrides.body,
          srcScope,
          shape ?? (() => undefined),
          ranges,
          "",
          new Set(["name"]),
        );
        Object.assign(config, over);
      }
      for (const [k, r] of ranges) model.ranges.set(`${path}.${k}`, r);
      model.ranges.set(path, inst.source.block.range);
      model.builders.push({
        type: inst.source.type,
        name: inst.full,
        sourceName: inst.name,
        config,
        path,
      });
    } catch (err) {
      problem(problems, err);
    }
  }
  const names = instances.map((i) => i.full);
  const resolveOnly = (v: Value, range: Range): string[] | undefined => {
    if (v === null || v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      problems.push(
        error(
          "Invalid only/except",
          'only and except are lists of source names such as "qemu.ubuntu".',
          range,
        ),
      );
      return undefined;
    }
    const out: string[] = [];
    for (const pattern of v as string[]) {
      // Packer matches `type.name`; other names (even `source.type.name`) match nothing.
      out.push(
        ...instances.filter((i) => `${i.source.type}.${i.name}` === pattern).map((i) => i.full),
      );
    }
    return out;
  };
  const restrict = (only: string[] | undefined, except: string[] | undefined): string[] =>
    names.filter((n) => (!only || only.includes(n)) && !(except ?? []).includes(n));
  const provisionerDef = async (
    b: Block,
    path: string,
    inst: Instance,
    scope: Scope,
  ): Promise<ProvisionerDef | undefined> => {
    if (b.labels.length !== 1) {
      problems.push(
        error(
          "Invalid provisioner block",
          `A ${b.type} block has one label: its type (provisioner "shell").`,
          b.typeRange,
        ),
      );
      return undefined;
    }
    const type = b.labels[0];
    const shape = await shapeOf("provisioner", type, b.labelRanges[0]);
    const pScope = childScope(scope, {
      build: buildObject(name),
      source: { name: inst.name, type: inst.source.type },
    });
    const ranges: RangeMap = new Map();
    const common = commonOptions(b, pScope, PROVISIONER_COMMON, problems);
    const config = evalBody(
      b.body,
      pScope,
      shape ?? (() => undefined),
      ranges,
      "",
      PROVISIONER_COMMON,
    );
    for (const [k, r] of ranges) model.ranges.set(`${path}.${k}`, r);
    model.ranges.set(path, b.range);
    const only = restrict(resolveOnly(common.only, b.range), resolveOnly(common.except, b.range))
      .filter((n) => n === inst.full);
    const override = common.override as Record<string, Record<string, unknown>> | undefined;
    const overrideByFull: Record<string, Record<string, unknown>> = {};
    for (const [k, v] of Object.entries(override ?? {})) {
      // Packer keys overrides by the source's name alone.
      for (const inst of instances) if (k === inst.name) overrideByFull[inst.full] = v;
    }
    return {
      type,
      config,
      path,
      only,
      override: override ? overrideByFull : undefined,
      pauseBefore: duration(common.pause_before, "pause_before", b.range, problems),
      maxRetries: retries(common.max_retries, b.range, problems),
      timeout: duration(common.timeout, "timeout", b.range, problems),
    };
  };
  const postProcessorDef = async (
    b: Block,
    path: string,
    inst: Instance,
    scope: Scope,
  ): Promise<PostProcessorDef | undefined> => {
    if (b.labels.length !== 1) {
      problems.push(
        error(
          "Invalid post-processor block",
          `A post-processor block has one label: its type (post-processor "manifest").`,
          b.typeRange,
        ),
      );
      return undefined;
    }
    const type = b.labels[0];
    const shape = await shapeOf("post-processor", type, b.labelRanges[0]);
    const pScope = childScope(scope, {
      build: buildObject(name),
      source: { name: inst.name, type: inst.source.type },
    });
    const ranges: RangeMap = new Map();
    const common = commonOptions(b, pScope, POST_PROCESSOR_COMMON, problems);
    const config = evalBody(
      b.body,
      pScope,
      shape ?? (() => undefined),
      ranges,
      "",
      POST_PROCESSOR_COMMON,
    );
    for (const [k, r] of ranges) model.ranges.set(`${path}.${k}`, r);
    model.ranges.set(path, b.range);
    return {
      type,
      config,
      path,
      name: typeof common.name === "string" ? common.name : undefined,
      keepInputArtifact: typeof common.keep_input_artifact === "boolean"
        ? common.keep_input_artifact
        : undefined,
      only: restrict(resolveOnly(common.only, b.range), resolveOnly(common.except, b.range))
        .filter((n) => n === inst.full),
    };
  };
  // Each source of the build gets its own copy of every provisioner and post-processor, so
  // `source.name` and the like take that source's values.
  // `dynamic "provisioner"` (and post-processor) blocks expand before anything is read.
  const blocks: { block: Block; scope: Scope }[] = [];
  for (const b of build.body.blocks) {
    if (b.type !== "dynamic") {
      blocks.push({ block: b, scope });
      continue;
    }
    try {
      blocks.push(...expandDynamic(b, scope));
    } catch (err) {
      problem(problems, err);
    }
  }
  for (const inst of instances) {
    let pi = 0;
    let ci = 0;
    for (const { block: b, scope: bScope } of blocks) {
      try {
        if (b.type === "provisioner") {
          const def = await provisionerDef(b, `${buildPrefix}.provisioner[${pi++}]`, inst, bScope);
          if (def && def.only!.length > 0) model.provisioners.push(def);
        } else if (b.type === "error-cleanup-provisioner") {
          const def = await provisionerDef(
            b,
            `${buildPrefix}.error-cleanup-provisioner`,
            inst,
            bScope,
          );
          if (def && def.only!.length > 0) model.errorCleanupProvisioners.push(def);
        } else if (b.type === "post-processor") {
          const def = await postProcessorDef(
            b,
            `${buildPrefix}.post-processor[${ci++}]`,
            inst,
            bScope,
          );
          if (def && def.only!.length > 0) model.postProcessors.push([def]);
        } else if (b.type === "post-processors") {
          // A chain runs until its first post-processor skipped for this build.
          const chain: PostProcessorDef[] = [];
          const at = ci++;
          for (const [j, inner] of b.body.blocks.entries()) {
            if (inner.type !== "post-processor") {
              problems.push(
                error(
                  "Unsupported block type",
                  `A post-processors block holds only post-processor blocks.`,
                  inner.typeRange,
                ),
              );
              break;
            }
            const def = await postProcessorDef(
              inner,
              `${buildPrefix}.post-processors[${at}][${j}]`,
              inst,
              bScope,
            );
            if (!def || def.only!.length === 0) break;
            chain.push(def);
          }
          if (chain.length > 0) model.postProcessors.push(chain);
        }
      } catch (err) {
        problem(problems, err);
      }
    }
  }
}

function buildObject(name: string | undefined): ObjectValue {
  const out: ObjectValue = {};
  for (const k of BUILD_PLACEHOLDERS) out[k] = `{{ build \`${k}\` }}`;
  out.name = name ?? "{{ build_name }}";
  return out;
}

function commonOptions(
  b: Block,
  scope: Scope,
  keys: ReadonlySet<string>,
  problems: Diagnostic[],
): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const a of b.body.attributes) {
    if (!keys.has(a.name)) continue;
    try {
      out[a.name] = evaluate(a.expr, scope);
    } catch (err) {
      problem(problems, err);
    }
  }
  return out;
}

function duration(
  v: Value | undefined,
  key: string,
  range: Range,
  problems: Diagnostic[],
): number | undefined {
  if (v === undefined || v === null) return undefined;
  try {
    return parseDuration(String(v));
  } catch {
    problems.push(
      error(
        `Invalid ${key}`,
        `${key} is a duration such as "30s" or "1m30s"; got ${JSON.stringify(v)}.`,
        range,
      ),
    );
    return undefined;
  }
}

/** max_retries: a whole number, also written as a string (as `hcl2_upgrade` writes it). */
function retries(v: Value | undefined, range: Range, problems: Diagnostic[]): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n === "number" && Number.isInteger(n) && n >= 0) return n;
  problems.push(
    error("Invalid max_retries", `max_retries is a whole number; got ${JSON.stringify(v)}.`, range),
  );
  return undefined;
}
