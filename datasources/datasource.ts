/**
 * The data source plugin contract (HCL2 `data "<type>" "<name>" { ... }`):
 * a config schema, the attributes it outputs, and `execute`, which fetches
 * them. The evaluator decodes the block's attributes against `schema` with
 * `decodeConfig` (template/decode.ts), calls `execute` once, and exposes the
 * result as `data.<type>.<name>.<attribute>`.
 */
import type { ConfigSchema } from "../template/schema.ts";

/** What `execute` may use of the run it is part of. */
export interface DataSourceContext {
  /** Aborts the fetch (Ctrl-C, or the evaluation giving up). */
  signal?: AbortSignal;
  /** One line for the user (a warning, a retry); never contains a secret the config holds. */
  log(line: string): void;
}

/** A data source type, e.g. "http", "amazon-ami". */
export interface DataSourcePlugin {
  /** The block's first label. */
  type: string;
  /** Options the block accepts, decoded as builder options are. */
  schema: ConfigSchema;
  /** Output attribute names, each with one line of documentation. */
  outputs: Record<string, string>;
  /**
   * Fetches the data. `config` is what `decodeConfig` made of the block
   * (defaults applied, checks passed). Resolves to every attribute of
   * `outputs` as a plain JSON value; rejects with an Error whose message is
   * for the user.
   */
  execute(
    config: Record<string, unknown>,
    ctx: DataSourceContext,
  ): Promise<Record<string, unknown>>;
}
