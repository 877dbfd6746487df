/** The builder plugin contract: a config schema plus the ordered steps it is made of. */
import type { ConfigSchema } from "../template/schema.ts";
import type { Artifact, ResourceHandler, Step } from "../runtime/types.ts";

/** Facts about the build a builder is asked to plan. */
export interface BuildInfo {
  runId: string;
  buildName: string;
  /** Directory of the template (relative paths in config resolve against the CWD, as in Packer). */
  templateDir: string;
}

/** A builder type, e.g. "null", "file", "amazon-instance". */
export interface BuilderPlugin {
  /** The template's `type`. */
  type: string;
  /** Options it accepts (communicator options included if it connects). */
  schema: ConfigSchema;
  /** The ordered steps; the runtime appends nothing and removes nothing. */
  steps(config: Record<string, unknown>, build: BuildInfo): Step[];
  /** The artifact, from the completed steps' outputs (undefined: no artifact, like null). */
  artifact(state: Readonly<Record<string, unknown>>, config: Record<string, unknown>):
    | Artifact
    | undefined;
  /**
   * Every local path the steps may record in the ledger (absolute, or
   * relative to the working directory): a ledger path of the build that is
   * none of these, a post-processor's output or inside the run's temp
   * directory is refused, never deleted.
   */
  localPaths?(config: Record<string, unknown>, build: BuildInfo): string[];
  /** Deleters for every resource kind the steps record. */
  resources: Record<string, ResourceHandler>;
}
