/** Decoding and running a data source the way the HCL evaluator will. */
import { loadDataSource } from "../../datasources/mod.ts";
import type { DataSourcePlugin } from "../../datasources/datasource.ts";
import { decodeConfig } from "../../template/decode.ts";

/** The problems `decodeConfig` reports for a block, as "path: message" lines. */
export async function problems(type: string, raw: Record<string, unknown>): Promise<string[]> {
  const plugin = await load(type);
  const out: string[] = [];
  decodeConfig(raw, plugin.schema, `data.${type}.test`, (path, message) => {
    out.push(`${path}: ${message}`);
  });
  return out;
}

/** Decodes the block (failing on any problem) and executes it; returns the outputs and log lines. */
export async function run(
  type: string,
  raw: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<{ outputs: Record<string, unknown>; log: string[] }> {
  const plugin = await load(type);
  const found: string[] = [];
  const config = decodeConfig(raw, plugin.schema, `data.${type}.test`, (path, message) => {
    found.push(`${path}: ${message}`);
  });
  if (found.length) throw new Error(`the block does not decode:\n${found.join("\n")}`);
  const log: string[] = [];
  const outputs = await plugin.execute(config, { signal, log: (line) => log.push(line) });
  return { outputs, log };
}

async function load(type: string): Promise<DataSourcePlugin> {
  const plugin = await loadDataSource(type);
  if (!plugin) throw new Error(`no data source ${type}`);
  return plugin;
}
