/**
 * Diagnostics in HCL's style: where (file:line:col), a one-line summary, a
 * detail, and the source line with the offending span marked, so the user
 * sees the problem without opening the file.
 */
import type { Range } from "./ast.ts";

/** One problem found in an HCL configuration. */
export interface Diagnostic {
  severity: "error" | "warning";
  summary: string;
  detail: string;
  range?: Range;
}

/** Thrown by the HCL front end; carries every diagnostic found, not just the first. */
export class DiagnosticError extends Error {
  /** Every problem found. */
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${where(d)}${d.summary}: ${d.detail}`).join("\n"));
    this.name = "DiagnosticError";
    this.diagnostics = diagnostics;
  }
}

function where(d: Diagnostic): string {
  if (!d.range) return "";
  return `${d.range.file}:${d.range.start.line}:${d.range.start.column}: `;
}

/** An error diagnostic. */
export function error(summary: string, detail: string, range?: Range): Diagnostic {
  return { severity: "error", summary, detail, range };
}

/**
 * Renders diagnostics as HCL does: a header per problem, the source line(s)
 * of the span with line numbers, the span underlined, then the detail.
 * `sources` maps a file name to its text.
 */
export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
): string {
  return diagnostics.map((d) => renderOne(d, sources)).join("\n");
}

function renderOne(d: Diagnostic, sources: ReadonlyMap<string, string>): string {
  const head = `${d.severity === "error" ? "Error" : "Warning"}: ${d.summary}`;
  const out = [head, ""];
  const text = d.range ? sources.get(d.range.file) : undefined;
  if (d.range) {
    out.push(`  on ${d.range.file} line ${d.range.start.line}:`);
    if (text !== undefined) out.push(...snippet(d.range, text));
    out.push("");
  }
  if (d.detail) out.push(d.detail, "");
  return out.join("\n");
}

/** Up to three lines of the span, each numbered, with `^^^` under the marked part. */
export function snippet(range: Range, text: string): string[] {
  const lines = text.split(/\r?\n/);
  const first = range.start.line;
  const last = Math.min(range.end.line, first + 2);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last && n <= lines.length; n++) {
    const line = cut(lines[n - 1].replaceAll("\t", " "));
    out.push(`  ${String(n).padStart(width)}: ${line}`);
    const from = n === first ? range.start.column : 1;
    const to = n === range.end.line ? range.end.column : line.length + 1;
    if (to > from) {
      out.push(
        `  ${" ".repeat(width)}  ${" ".repeat(from - 1)}${"^".repeat(Math.min(to - from, 200))}`,
      );
    } else if (n === first) {
      out.push(`  ${" ".repeat(width)}  ${" ".repeat(from - 1)}^`);
    }
  }
  return out;
}

/** A minified file's line would flood the terminal: show its start. */
function cut(line: string): string {
  return line.length > 240 ? line.slice(0, 240) + "…" : line;
}
