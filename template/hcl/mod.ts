/**
 * The HCL2 front end, loaded on demand by prepare.ts: everything it needs
 * from the template layer's point of view.
 */
import type { TemplateIssue } from "../types.ts";
import type { Range } from "./ast.ts";
import { snippet } from "./diagnostic.ts";
import type { HclConfigError } from "./load.ts";

export { HclConfigError, loadHclTemplate } from "./load.ts";
export type { HclLoadOptions, HclTemplate } from "./load.ts";
export { isHclConfig } from "./files.ts";

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
