/**
 * A tiny HCL writer for `hcl2_upgrade`: attributes, blocks, comments and
 * blank lines, laid out as `packer fmt` lays them out (two-space indent, the
 * `=` of consecutive single-line attributes aligned; a multi-line value
 * stands alone).
 */

/** One element of a body, in output order. */
export type BodyItem =
  | { kind: "attr"; name: string; lines: string[] }
  | { kind: "block"; type: string; labels: string[]; body: BodyItem[] }
  | { kind: "comment"; text: string }
  | { kind: "raw"; text: string }
  | { kind: "blank" };

/** An attribute whose value expression is `lines` (the first follows `name =`). */
export function attr(name: string, lines: string[] | string): BodyItem {
  return { kind: "attr", name, lines: typeof lines === "string" ? [lines] : lines };
}

/** A block `type "label" ... { body }`. */
export function block(type: string, labels: string[], body: BodyItem[]): BodyItem {
  return { kind: "block", type, labels, body };
}

/** `# text` lines (one per line of text). */
export function comment(text: string): BodyItem {
  return { kind: "comment", text };
}

/** A blank line. */
export const BLANK: BodyItem = { kind: "blank" };

/** HCL's quoted form of a plain string (no interpolation): labels and object keys. */
export function quoteLiteral(s: string): string {
  return `"${escapeText(s)}"`;
}

/** Escapes text for inside an HCL quoted template: quotes, backslashes, controls, `${`, `%{`. */
export function escapeText(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  // A function replacement: in a replacement string "$$" would mean one "$".
  return out.replaceAll("${", () => "$${").replaceAll("%{", () => "%%{");
}

/** Renders a body at `indent` levels. */
export function renderBody(items: BodyItem[], indent = 0): string[] {
  const pad = "  ".repeat(indent);
  const out: string[] = [];
  let i = 0;
  while (i < items.length) {
    const item = items[i];
    if (item.kind === "attr") {
      // A run of single-line attributes shares one `=` column.
      let j = i;
      while (j < items.length) {
        const it = items[j];
        if (it.kind !== "attr" || it.lines.length > 1) break;
        j++;
      }
      if (j === i) j = i + 1;
      const run = items.slice(i, j) as Extract<BodyItem, { kind: "attr" }>[];
      const width = run.length > 1 ? Math.max(...run.map((a) => a.name.length)) : 0;
      for (const a of run) {
        out.push(`${pad}${a.name.padEnd(width)} = ${a.lines[0]}`);
        for (const line of a.lines.slice(1)) out.push(line === "" ? "" : pad + line);
      }
      i = j;
      continue;
    }
    if (item.kind === "block") {
      const head = [item.type, ...item.labels.map(quoteLiteral)].join(" ");
      if (item.body.length === 0) out.push(`${pad}${head} {`, `${pad}}`);
      else out.push(`${pad}${head} {`, ...renderBody(item.body, indent + 1), `${pad}}`);
    } else if (item.kind === "raw") out.push(pad + item.text);
    else if (item.kind === "comment") {
      for (const line of item.text.split("\n")) out.push(`${pad}# ${line}`.trimEnd());
    } else out.push("");
    i++;
  }
  return out;
}

/** Renders a whole file: top-level items, a trailing newline. */
export function renderFile(items: BodyItem[]): string {
  return renderBody(items).join("\n") + "\n";
}
