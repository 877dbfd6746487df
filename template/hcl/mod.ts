/**
 * The HCL2 front end, loaded on demand by prepare.ts: everything it needs
 * from the template layer's point of view.
 */
import type { TemplateIssue } from "../types.ts";
import type { Range } from "./ast.ts";
import { snippet } from "./diagnostic.ts";
import type { HclConfigError } from "./load.ts";
import type { DataSourceRunner } from "./graph.ts";
import type { ConfigSchema } from "../schema.ts";
import { decodeConfig } from "../decode.ts";
import { DiagnosticError, error } from "./diagnostic.ts";
import type { Value } from "./value.ts";

export { checkHclConfigSyntax, HclConfigError, loadHclTemplate } from "./load.ts";
export type { HclLoadOptions, HclTemplate } from "./load.ts";
export { isHclConfig } from "./files.ts";
export { hclTypedOptions } from "./option_types.ts";

/** The source lines around a position, the position marked, as diagnostics show them. */
export function quote(pos: { file: string; line: number; column: number }, text: string): string[] {
  const start = { line: pos.line, column: pos.column, offset: 0 };
  const line = text.split(/\r?\n/)[pos.line - 1] ?? "";
  const rest = line.slice(pos.column - 1);
  const token = /^("(?:[^"\\]|\\.)*"|[\w.-]+|.)/.exec(rest)?.[0] ?? "";
  const range: Range = {
    file: pos.file,
    start,
    end: { ...start, column: pos.column + Math.max(1, token.length) },
  };
  return snippet(range, text);
}

/** HCL diagnostics as template issues: file:line:col, summary and detail, the line quoted. */
export function diagnosticIssues(err: HclConfigError): TemplateIssue[] {
  return err.diagnostics.map((d) => {
    const text = d.range ? err.sources.get(d.range.file) : undefined;
    return {
      file: d.range?.file ?? "<config>",
      path: "",
      message: `${d.severity === "warning" ? "Warning: " : ""}${d.summary}: ${d.detail}`,
      line: d.range?.start.line,
      column: d.range?.start.column,
      snippet: d.range && text !== undefined ? snippet(d.range, text) : undefined,
    };
  });
}

/** The part of a data source plugin the front end uses. */
export interface DataSourceLike {
  schema: ConfigSchema;
  execute(
    config: Record<string, unknown>,
    ctx: { log(line: string): void },
  ): Promise<Record<string, unknown>>;
}

/**
 * Runs data sources from a registry: options decoded by the data source's
 * schema (problems become diagnostics at the block), then fetched.
 */
export function dataSourceRunner(
  types: () => string[],
  load: (type: string) => Promise<DataSourceLike> | undefined,
): DataSourceRunner {
  const shapeFor = (schema: ConfigSchema) => (key: string) => {
    const spec = Object.hasOwn(schema.fields, key) ? schema.fields[key] : undefined;
    return spec?.type === "list_of_objects"
      ? "list" as const
      : spec?.type === "object"
      ? "object" as const
      : undefined;
  };
  return {
    types,
    shape: async (type) => {
      const plugin = await load(type);
      return plugin ? shapeFor(plugin.schema) : undefined;
    },
    run: async (type, name, config, range) => {
      const plugin = (await load(type))!;
      const problems: string[] = [];
      const decoded = decodeConfig(
        config,
        plugin.schema,
        `data.${type}.${name}`,
        (path, message) => problems.push(`${path}: ${message}`),
      );
      if (problems.length > 0) {
        throw new DiagnosticError(
          problems.map((p) => error("Invalid data source options", p, range)),
        );
      }
      try {
        return await plugin.execute(decoded, {
          log: (line) => console.error(`data.${type}.${name}: ${line}`),
        }) as Value;
      } catch (err) {
        throw new DiagnosticError([
          error(
            `Data source ${type}.${name} failed`,
            err instanceof Error ? err.message : String(err),
            range,
          ),
        ]);
      }
    },
  };
}
