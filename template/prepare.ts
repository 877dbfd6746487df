/**
 * prepareTemplate: the template layer's one entry point for `validate` and
 * `build`. Parses, checks references, resolves variables, selects builds,
 * loads each component through the lazy registries, interpolates and decodes
 * its options. Throws a TemplateError carrying every issue found.
 */
import {
  type PostProcessorDef,
  type PreparedBuild,
  type PreparedPostProcessor,
  type PreparedProvisioner,
  type PreparedTemplate,
  type ProvisionerDef,
  type Template,
  TemplateError,
  type TemplateInputs,
  type TemplateIssue,
} from "./types.ts";
import type { BuildContext, ConfigSchema } from "./schema.ts";
import { digestText, locate, parseTemplate } from "./parse.ts";
import { resolveVariables } from "./variables.ts";
import { checkTemplateReferences, globToRegExp, selectBuildNames, skips } from "./select.ts";
import { checkMinVersion } from "./min_version.ts";
import { decodeConfig, type Report } from "./decode.ts";
import { interpolateConfig } from "./interpolate.ts";
import { RenderBudget, type RenderContext, renderString } from "./engine.ts";
import { childPath } from "./source.ts";
import { isHclConfig } from "./hcl/files.ts";
import type { ConfigSchema as Schema } from "./schema.ts";
import type { ComponentRegistry } from "./registry.ts";

/** Options of prepareTemplate. */
export interface PrepareOptions {
  /** Where component types and their schemas come from (handed down by kiln's top). */
  registry: ComponentRegistry;
  /** Only parse and check the template's structure (`validate -syntax-only`). */
  syntaxOnly?: boolean;
  /**
   * The builds' outputs must not exist yet, as Packer's `validate` and a
   * build without `-force` require (an existing `output_directory` is an
   * error). Off for `-force`, resume and cleanup: the outputs may be the run's.
   */
  freshOutputs?: boolean;
  /**
   * A builder type kiln lacks is not a template error but a build that
   * fails when it runs (`PreparedBuild.unavailable`), so the template's
   * other builds still run — as a Packer build whose builder fails. For
   * `build`; `validate` keeps reporting the type.
   */
  deferUnknownBuilders?: boolean;
}

/** Collects the sensitive option values of a decoded config (ssh_password, ...). */
function collectSecrets(config: Record<string, unknown>, schema: ConfigSchema, out: Set<string>) {
  for (const [key, spec] of Object.entries(schema.fields)) {
    const v = config[key];
    if (spec.sensitive && typeof v === "string" && v !== "") out.add(v);
    if (spec.item && v && typeof v === "object") {
      for (const item of Array.isArray(v) ? v : [v]) {
        if (item && typeof item === "object") {
          collectSecrets(item as Record<string, unknown>, spec.item, out);
        }
      }
    }
  }
}

/** Loads a plugin, turning a loader failure (e.g. a broken module) into an issue. */
async function load<T>(
  loader: Promise<T> | undefined,
  report: () => void,
  broken: (message: string) => void,
): Promise<T | undefined> {
  if (!loader) {
    report();
    return undefined;
  }
  try {
    return await loader;
  } catch (err) {
    broken(err instanceof Error ? err.message : String(err));
    return undefined;
  }
}

class Preparer {
  readonly issues: TemplateIssue[] = [];
  readonly secrets = new Set<string>();
  /** Everything this template renders, variables included, shares one budget. */
  readonly budget = new RenderBudget();
  /** See PrepareOptions.deferUnknownBuilders. */
  deferUnknownBuilders = false;
  constructor(
    readonly template: Template,
    readonly displayFile: string,
    readonly force: boolean,
    readonly registry: ComponentRegistry,
    /** HCL: converts options to their types as HCL does, reporting what it cannot. */
    readonly hclTyped?: (
      config: Record<string, unknown>,
      schema: Schema,
      path: string,
      report: Report,
    ) => Record<string, unknown>,
    /** HCL: texts of the configuration's files, to quote the offending line. */
    readonly sources?: ReadonlyMap<string, string>,
    readonly quote?: (
      pos: { file: string; line: number; column: number },
      text: string,
    ) => string[],
  ) {}

  private seen = new Set<string>();

  /**
   * HCL2 values take their option's type as HCL converts (hcl/option_types.ts):
   * each mistyped option is reported once, and the looser JSON decoding that
   * follows says nothing more about it.
   */
  private typed(
    config: Record<string, unknown>,
    schema: Schema,
    path: string,
    report: Report,
  ): { config: Record<string, unknown>; report: Report } {
    if (!this.hclTyped) return { config, report };
    const bad: string[] = [];
    const converted = this.hclTyped(config, schema, path, (at, message) => {
      bad.push(at);
      report(at, message);
    });
    if (bad.length === 0) return { config: converted, report };
    return {
      config: converted,
      report: (at, message) => {
        const known = bad.some((b) => at === b || at.startsWith(b + ".") || at.startsWith(b + "["));
        if (!known) report(at, message);
      },
    };
  }

  /**
   * The schema decoding checks against. In HCL2 a key Packer's fixers
   * rewrite is an ordinary unknown argument (Packer: "Unsupported
   * argument"; `kiln fix`, like `packer fix`, reads JSON only), so the
   * pointer to `kiln fix` is for JSON and YAML templates.
   */
  private decodingSchema(schema: Schema): Schema {
    return this.hclTyped ? { ...schema, deprecated: undefined, pluginType: undefined } : schema;
  }

  /** Records an issue once: the same provisioner problem shows up for every build. */
  report: Report = (path, message) => {
    const key = `${path}\n${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const pos = locate(this.template, path);
    const text = pos?.file ? this.sources?.get(pos.file) : undefined;
    this.issues.push({
      file: pos?.file ?? this.displayFile,
      path,
      message,
      line: pos?.line,
      column: pos?.column,
      snippet: pos?.file && text !== undefined && this.quote
        ? this.quote({ file: pos.file, line: pos.line, column: pos.column }, text)
        : undefined,
    });
  };

  async provisioner(
    def: ProvisionerDef,
    index: number,
    build: { name: string; type: string; communicator: unknown },
    ctx: RenderContext,
  ): Promise<PreparedProvisioner | undefined> {
    const context = { name: build.name, type: build.type, force: this.force };
    const plugin = await load(
      this.registry.provisioners.load(def.type),
      () =>
        this.report(
          childPath(def.path, "type"),
          `unknown provisioner type "${def.type}" (kiln knows: ${
            this.registry.provisioners.types().join(", ")
          })`,
        ),
      (m) => this.report(def.path, `provisioner "${def.type}" failed to load: ${m}`),
    );
    if (!plugin) return undefined;
    const override = def.override?.[build.name] ?? {};
    const raw = { ...def.config, ...override };
    // Problems with an overridden option point into the override that set it.
    const overridePath = childPath(childPath(def.path, "override"), build.name);
    const report: Report = (path, message) => {
      for (const key of Object.keys(override)) {
        const at = childPath(def.path, key);
        if (path === at || path.startsWith(at + ".") || path.startsWith(at + "[")) {
          return this.report(childPath(overridePath, key) + path.slice(at.length), message);
        }
      }
      this.report(path, message);
    };
    const typed = this.typed(raw, plugin.schema, def.path, report);
    const rendered = interpolateConfig(typed.config, plugin.schema, def.path, {
      ctx,
      deferBuild: true,
    }, typed.report);
    const config = decodeConfig(
      rendered,
      this.decodingSchema(plugin.schema),
      def.path,
      typed.report,
      context,
    );
    collectSecrets(config, plugin.schema, this.secrets);
    if (plugin.needsCommunicator && build.communicator === "none") {
      this.report(
        def.path,
        `the ${def.type} provisioner needs a communicator, but build "${build.name}" uses ` +
          `"communicator": "none" (use shell-local, or configure ssh)`,
      );
    }
    return {
      index,
      type: def.type,
      path: def.path,
      config,
      pauseBefore: def.pauseBefore ?? 0,
      maxRetries: def.maxRetries ?? 0,
      timeout: def.timeout ?? 0,
    };
  }

  async postProcessor(
    def: PostProcessorDef,
    ctx: RenderContext,
    build: BuildContext,
  ): Promise<PreparedPostProcessor | undefined> {
    const plugin = await load(
      this.registry.postProcessors.load(def.type),
      () =>
        this.report(
          childPath(def.path, "type"),
          `unknown post-processor type "${def.type}" (kiln knows: ${
            this.registry.postProcessors.types().join(", ")
          })`,
        ),
      (m) => this.report(def.path, `post-processor "${def.type}" failed to load: ${m}`),
    );
    if (!plugin) return undefined;
    const typed = this.typed(def.config, plugin.schema, def.path, this.report);
    const rendered = interpolateConfig(typed.config, plugin.schema, def.path, {
      ctx,
      deferBuild: true,
    }, typed.report);
    const config = decodeConfig(
      rendered,
      this.decodingSchema(plugin.schema),
      def.path,
      typed.report,
      build,
    );
    collectSecrets(config, plugin.schema, this.secrets);
    return {
      type: def.type,
      name: def.name ?? def.type,
      path: def.path,
      config,
      keepInputArtifact: def.keepInputArtifact,
    };
  }

  async build(
    index: number,
    variables: Record<string, string>,
    inputs: TemplateInputs,
  ): Promise<PreparedBuild | undefined> {
    const t = this.template;
    const def = t.builders[index];
    let unavailable: string | undefined;
    const plugin = await load(
      this.registry.builders.load(def.type),
      () => {
        const why = `unknown builder type "${def.type}" (kiln knows: ${
          this.registry.builders.types().join(", ")
        })`;
        if (this.deferUnknownBuilders) unavailable = why;
        else this.report(childPath(def.path, "type"), why);
      },
      (m) => this.report(def.path, `builder "${def.type}" failed to load: ${m}`),
    );
    const ctx: RenderContext = {
      variables,
      templateDir: t.dir,
      buildName: def.sourceName ?? def.name,
      buildType: def.type,
      budget: this.budget,
    };
    let config: Record<string, unknown> = {};
    if (plugin) {
      const typed = this.typed(def.config, plugin.schema, def.path, this.report);
      const rendered = interpolateConfig(typed.config, plugin.schema, def.path, {
        ctx,
        deferBuild: false,
      }, typed.report);
      config = decodeConfig(rendered, this.decodingSchema(plugin.schema), def.path, typed.report, {
        // HCL2 names are literal; a JSON template's are Go templates, as in Packer.
        name: this.hclTyped
          ? def.sourceName ?? def.name
          : renderedName(def.sourceName ?? def.name, ctx, (message) =>
            this.report(
              childPath(def.path, "name"),
              `Error interpolating builder '${def.sourceName ?? def.name}': ${message}`,
            )),
        type: def.type,
        force: this.force,
      });
      collectSecrets(config, plugin.schema, this.secrets);
    }
    // A builder without communicator options never connects (e.g. file): treat it as "none".
    const connects = plugin !== undefined && Object.hasOwn(plugin.schema.fields, "communicator");
    const build = {
      name: def.name,
      type: def.type,
      communicator: !plugin ? undefined : connects ? config.communicator : "none",
    };
    const provisioners: PreparedProvisioner[] = [];
    for (const [i, p] of t.provisioners.entries()) {
      if (skips(p, def.name)) continue;
      const prepared = await this.provisioner(p, i, build, ctx);
      if (prepared) provisioners.push(prepared);
    }
    const ecpDef = t.errorCleanupProvisioners
      ? t.errorCleanupProvisioners.find((p) => !skips(p, def.name))
      : t.errorCleanupProvisioner;
    const ecp = ecpDef ? await this.provisioner(ecpDef, -1, build, ctx) : undefined;
    const postProcessors: PreparedPostProcessor[][] = [];
    for (const chain of t.postProcessors) {
      const prepared: PreparedPostProcessor[] = [];
      for (const pp of chain) {
        // A chain runs until its first skipped post-processor (as the documents say; Packer
        // 1.6.6 skips only that one). -except may name one; the name defaults to the type.
        const exceptByName = (inputs.except ?? []).includes(pp.name ?? pp.type);
        if (skips(pp, def.name) || exceptByName) break;
        const p = await this.postProcessor(pp, ctx, {
          name: def.sourceName ?? def.name,
          type: def.type,
          force: this.force,
        });
        if (p) prepared.push(p);
      }
      if (prepared.length > 0) postProcessors.push(prepared);
    }
    if (!plugin && unavailable === undefined) return undefined;
    return {
      name: def.name,
      ...(def.sourceName !== undefined ? { sourceName: def.sourceName } : {}),
      type: def.type,
      path: def.path,
      ...(unavailable !== undefined ? { unavailable } : {}),
      config,
      provisioners,
      errorCleanupProvisioner: ecp,
      postProcessors,
    };
  }
}

/**
 * A build name as Packer uses it for derived defaults (`vm_name` =
 * `packer-<name>`): with its user variables rendered.
 */
/** A build name rendered as Packer does; what it cannot render is reported, as Packer refuses it. */
function renderedName(
  name: string,
  ctx: RenderContext,
  report: (message: string) => void,
): string {
  if (!name.includes("{{")) return name;
  try {
    return renderString(name, ctx);
  } catch (err) {
    report(err instanceof Error ? err.message : String(err));
    return name;
  }
}

/** Issue messages may quote a value (`got "..."`): never let a secret through. */
function masked(issues: TemplateIssue[], secrets: string[]): TemplateIssue[] {
  const longestFirst = secrets.filter((x) => x !== "").sort((a, b) => b.length - a.length);
  if (longestFirst.length === 0) return issues;
  return issues.map((issue) => {
    let message = issue.message;
    for (const secret of longestFirst) message = message.replaceAll(secret, "<sensitive>");
    return message === issue.message ? issue : { ...issue, message };
  });
}

function canonical(values: Record<string, string>): string {
  return JSON.stringify(Object.keys(values).sort().map((k) => [k, values[k]]));
}

/**
 * Reads, validates and prepares a template for building. Throws TemplateError
 * listing every issue (file, JSON path, expectation) when anything is wrong.
 */
export async function prepareTemplate(
  file: string,
  inputs: TemplateInputs,
  options: PrepareOptions,
): Promise<PreparedTemplate> {
  if (await isHclConfig(file)) return await prepareHcl(file, inputs, options);
  const template = await parseTemplate(file);
  if (options.syntaxOnly) {
    return {
      template,
      variables: {},
      secrets: [],
      builds: [],
      inputsDigest: await digestText(template.digest),
    };
  }
  const prep = new Preparer(template, file, !options.freshOutputs, options.registry);
  prep.deferUnknownBuilders = options.deferUnknownBuilders ?? false;
  checkTemplateReferences(template, prep.report);
  const versionProblem = checkMinVersion(template.minPackerVersion);
  if (versionProblem) prep.report("min_packer_version", versionProblem);

  let variables: Record<string, string> = {};
  let variableSecrets: string[] = [];
  try {
    const resolved = await resolveVariables(template, inputs, file, prep.budget);
    variables = resolved.values;
    variableSecrets = resolved.secrets;
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    const placed = err.issues.map((issue) => {
      const pos = issue.file === file && issue.line === undefined
        ? locate(template, issue.path)
        : undefined;
      return pos ? { ...issue, line: pos.line, column: pos.column } : issue;
    });
    throw new TemplateError([...prep.issues, ...placed]);
  }
  if (prep.issues.length > 0) throw new TemplateError(prep.issues);
  const names = template.builders.map((b) => b.name);
  const selected = new Set(selectBuildNames(names, inputs.only, inputs.except));
  return await finish(prep, variables, variableSecrets, selected, inputs);
}

/** Builds every selected builder of a template whose variables are resolved. */
async function finish(
  prep: Preparer,
  variables: Record<string, string>,
  variableSecrets: string[],
  selected: Set<string>,
  inputs: TemplateInputs,
): Promise<PreparedTemplate> {
  const template = prep.template;
  const builds: PreparedBuild[] = [];
  for (const [i, b] of template.builders.entries()) {
    if (!selected.has(b.name)) continue;
    const build = await prep.build(i, variables, inputs);
    if (build) builds.push(build);
  }
  const secrets = [...new Set([...variableSecrets, ...prep.secrets])];
  if (prep.issues.length > 0) throw new TemplateError(masked(prep.issues, secrets));
  return {
    template,
    variables,
    secrets,
    builds,
    // The variables alone: a changed file is the template digest's to report.
    inputsDigest: await digestText(canonical(variables)),
  };
}

function shapeOf(schema: Schema | undefined) {
  return (key: string) => {
    const spec = schema && Object.hasOwn(schema.fields, key) ? schema.fields[key] : undefined;
    return spec?.type === "list_of_objects"
      ? "list" as const
      : spec?.type === "object"
      ? "object" as const
      : undefined;
  };
}

/** The registry's components of one kind. */
function componentsOf(registry: ComponentRegistry, kind: string): ComponentRegistry["builders"] {
  return kind === "builder"
    ? registry.builders
    : kind === "provisioner"
    ? registry.provisioners
    : registry.postProcessors;
}

/**
 * Loads an HCL configuration with the component registries (schemas for
 * nested blocks, data sources); diagnostics become a TemplateError.
 */
export async function loadHclConfig(
  file: string,
  inputs: TemplateInputs,
  registry: ComponentRegistry,
  allowUnset = false,
  deferUnknownBuilders = false,
): Promise<import("./hcl/mod.ts").HclTemplate> {
  const hcl = await import("./hcl/mod.ts");
  try {
    return await hcl.loadHclTemplate(file, inputs, {
      shapes: async (kind, type) => {
        const components = componentsOf(registry, kind);
        const loading = components.load(type);
        if (loading === undefined) {
          // Deferred (PrepareOptions.deferUnknownBuilders): the source is read without a
          // schema and its build fails when it runs.
          if (kind === "builder" && deferUnknownBuilders) return undefined;
          return { unknown: true as const, known: components.types() };
        }
        const schema = await loading.then((c) => c.schema, () => undefined);
        return schema ? shapeOf(schema) : undefined;
      },
      dataSources: hcl.dataSourceRunner(
        () => registry.dataSources?.types() ?? [],
        (type) => registry.dataSources?.load(type),
      ),
      allowUnset,
    });
  } catch (err) {
    if (err instanceof hcl.HclConfigError) throw new TemplateError(hcl.diagnosticIssues(err));
    throw err;
  }
}

/** `-syntax-only` of an HCL2 configuration: parsed, its blocks checked, nothing evaluated. */
async function hclSyntaxOnly(file: string): Promise<PreparedTemplate> {
  const hcl = await import("./hcl/mod.ts");
  let checked;
  try {
    checked = await hcl.checkHclConfigSyntax(file);
  } catch (err) {
    if (err instanceof hcl.HclConfigError) throw new TemplateError(hcl.diagnosticIssues(err));
    throw err;
  }
  const template: Template = {
    file,
    dir: file,
    format: "hcl",
    variables: {},
    builders: [],
    provisioners: [],
    postProcessors: [],
    digest: checked.digest,
    files: [...checked.sources.keys()],
  };
  return {
    template,
    variables: {},
    secrets: [],
    builds: [],
    inputsDigest: await digestText(checked.digest),
  };
}

/**
 * The HCL2 front end: the configuration is evaluated by template/hcl (loaded
 * only now, so JSON never pays for it), then prepared like a JSON template.
 */
async function prepareHcl(
  file: string,
  inputs: TemplateInputs,
  options: PrepareOptions,
): Promise<PreparedTemplate> {
  if (options.syntaxOnly) return await hclSyntaxOnly(file);
  const hcl = await import("./hcl/mod.ts");
  const loaded = await loadHclConfig(
    file,
    inputs,
    options.registry,
    false,
    options.deferUnknownBuilders ?? false,
  );
  const template = loaded.template;
  const resolved = template.resolved!;
  const prep = new Preparer(
    template,
    file,
    !options.freshOutputs,
    options.registry,
    hcl.hclTypedOptions,
    loaded.sources,
    hcl.quote,
  );
  prep.deferUnknownBuilders = options.deferUnknownBuilders ?? false;
  const names = template.builders.map((b) => b.name);
  // -only/-except match the full build name (`name.type.source` inside a named build).
  const matches = (patterns: string[]) => {
    const res = patterns.map(globToRegExp);
    return names.filter((n) => res.some((r) => r.test(n)));
  };
  const selected = new Set(
    inputs.only?.length
      ? matches(inputs.only)
      : inputs.except?.length
      ? names.filter((n) => !matches(inputs.except!).includes(n))
      : names,
  );
  return await finish(prep, resolved.variables, resolved.secrets, selected, inputs);
}
