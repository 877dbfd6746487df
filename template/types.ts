/**
 * The data the template layer hands to the runtime. Parsing produces a
 * `Template` (structure checked, nothing interpolated); preparing produces one
 * `PreparedBuild` per selected builder (variables resolved, strings
 * interpolated, every component's config decoded against its schema).
 */
import { excerpt, shortPath } from "./source.ts";

/** One problem found in a template or in the flags that feed it. */
export interface TemplateIssue {
  /** The file the problem is in (template or var-file); "<flags>" for -var. */
  file: string;
  /** JSON path of the offending value, e.g. `builders[1].ssh_port`; "" for the whole file. */
  path: string;
  /** What was expected, in words a user acts on. */
  message: string;
  /** 1-based position when known (syntax errors, and values the parser located). */
  line?: number;
  column?: number;
  /** The source line(s) with the offending span marked, when the front end has them (HCL). */
  snippet?: string[];
}

/** Thrown by the template layer; carries every issue found, not just the first. */
export class TemplateError extends Error {
  /** Every problem found. */
  readonly issues: TemplateIssue[];
  constructor(issues: TemplateIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "TemplateError";
    this.issues = issues;
  }
}

/**
 * Renders an issue as `file:line:col: path: message` (position and path
 * omitted when unknown). A path hundreds of levels deep, or a message quoting
 * a huge value, is cut so one issue stays a readable line or two.
 */
export function formatIssue(issue: TemplateIssue): string {
  const pos = issue.line ? `:${issue.line}${issue.column ? `:${issue.column}` : ""}` : "";
  const path = issue.path ? `${shortPath(issue.path, 120)}: ` : "";
  const head = `${issue.file}${pos}: ${path}${excerpt(issue.message, 1000)}`;
  return issue.snippet ? [head, ...issue.snippet].join("\n") : head;
}

/** A user variable declared in `variables`. */
export interface VariableDef {
  /** Default as written (may hold `{{env ...}}`); `null` means required. */
  default: string | null;
  /** Listed in `sensitive-variables`. */
  sensitive: boolean;
}

/** A builder, provisioner or post-processor as written in the template. */
export interface ComponentDef {
  type: string;
  /** The component's own options (common keys such as type/only/except removed). */
  config: Record<string, unknown>;
  /** JSON path of the definition, e.g. `provisioners[2]`, for error messages. */
  path: string;
}

/** A builder definition. */
export interface BuilderDef extends ComponentDef {
  /** `name`, or the type when absent. Unique across the template. */
  name: string;
  /**
   * HCL2: the source's own name (`site` of the build `file.site`). Packer
   * gives components this, not the full name, as PACKER_BUILD_NAME,
   * `{{.BuildName}}` and the manifest's `name`. Absent for JSON (= `name`).
   */
  sourceName?: string;
}

/** A provisioner definition with the options every provisioner shares. */
export interface ProvisionerDef extends ComponentDef {
  only?: string[];
  except?: string[];
  /** Per-build-name option overrides, merged over `config`. */
  override?: Record<string, Record<string, unknown>>;
  /** Milliseconds. */
  pauseBefore?: number;
  maxRetries?: number;
  /** Milliseconds. */
  timeout?: number;
}

/** A post-processor definition (one element of a chain). */
export interface PostProcessorDef extends ComponentDef {
  name?: string;
  keepInputArtifact?: boolean;
  only?: string[];
  except?: string[];
}

/** A parsed, structurally valid template. */
export interface Template {
  /** Absolute path of the template file. */
  file: string;
  /** Directory of the template (`template_dir`). */
  dir: string;
  format: "json" | "yaml" | "hcl";
  description?: string;
  minPackerVersion?: string;
  variables: Record<string, VariableDef>;
  builders: BuilderDef[];
  provisioners: ProvisionerDef[];
  /** Each inner array is one chain (simple and detailed forms become 1-element chains). */
  postProcessors: PostProcessorDef[][];
  errorCleanupProvisioner?: ProvisionerDef;
  /** HCL: one per build block, each restricted (`only`) to that block's builds. */
  errorCleanupProvisioners?: ProvisionerDef[];
  /**
   * SHA-256 (hex) of the file's bytes; for HCL, of every file of the
   * configuration and every variables file read, with their names.
   */
  digest: string;
  /** HCL: every file the configuration was read from (configuration and variables files). */
  files?: string[];
  /** HCL: SHA-256 (hex) of each of `files`, by name, so a changed file can be named. */
  fileDigests?: Record<string, string>;
  /**
   * HCL: variables are resolved by the front end (typed values; non-strings
   * as JSON text), with the values that must be masked.
   */
  resolved?: { variables: Record<string, string>; secrets: string[] };
}

/** What a user passes on the command line to select and feed builds. */
export interface TemplateInputs {
  /** `-var k=v` and `-var-file f` in command-line order (later wins). */
  vars?: ({ kind: "var"; name: string; value: string } | { kind: "file"; path: string })[];
  only?: string[];
  except?: string[];
}

/** A provisioner ready to run for one build: override merged, config decoded and interpolated. */
export interface PreparedProvisioner {
  /** Index in the template's `provisioners` (stable across resume). */
  index: number;
  type: string;
  path: string;
  /** Decoded config; fields marked `late` keep their raw template text. */
  config: Record<string, unknown>;
  pauseBefore: number;
  maxRetries: number;
  /** 0 = no timeout. */
  timeout: number;
}

/** A post-processor ready to run for one build. */
export interface PreparedPostProcessor {
  type: string;
  name: string;
  path: string;
  config: Record<string, unknown>;
  /** Explicit `keep_input_artifact`, or undefined to let the post-processor decide. */
  keepInputArtifact?: boolean;
}

/** One build: a builder plus everything that runs on it. */
export interface PreparedBuild {
  name: string;
  /** HCL2: the source's own name, what components see as the build name (BuilderDef.sourceName). */
  sourceName?: string;
  type: string;
  path: string;
  /** Why this build cannot run (a builder type kiln lacks); it fails alone at build time. */
  unavailable?: string;
  /** Decoded, interpolated builder config (communicator options included). */
  config: Record<string, unknown>;
  provisioners: PreparedProvisioner[];
  errorCleanupProvisioner?: PreparedProvisioner;
  postProcessors: PreparedPostProcessor[][];
}

/** Everything `build` needs: the template, the resolved variables, the builds. */
export interface PreparedTemplate {
  template: Template;
  /** Final user variable values (sensitive ones included: never print this). */
  variables: Record<string, string>;
  /** Values that must be masked wherever kiln writes (sensitive variables, secret options). */
  secrets: string[];
  builds: PreparedBuild[];
  /** SHA-256 of the resolved variables: resume refuses a change (the template has its digest). */
  inputsDigest: string;
}
