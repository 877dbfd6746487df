/**
 * yamldecode and yamlencode. Decoding reads YAML 1.1 like Packer's cty-yaml
 * (yes/no are bools, timestamps become RFC 3339 strings). Encoding writes
 * what Packer's go-yaml emitter writes: keys sorted and double-quoted,
 * strings double-quoted, multi-line strings as literal blocks, lists not
 * indented under their key, `...` after a top-level plain scalar.
 */
import type * as Yaml from "yaml";
import { numberToString } from "../types.ts";
import { type HclFunction, isObject, type Value, ValueError } from "../value.ts";
import { fn, str } from "./args.ts";
import { lazyPackage } from "./lazy_package.ts";

const yaml = lazyPackage<typeof Yaml>("yaml");

function fromYaml(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString().replace(/\.000Z$/, "Z");
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(fromYaml);
  if (v instanceof Map) {
    return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), fromYaml(x)]));
  }
  if (typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromYaml(x)]));
  }
  return String(v);
}

function yamldecode(a: Value[]): Value {
  const docs = yaml().parseAllDocuments(str(a, 0, "src"), {
    version: "1.1",
    merge: true,
    prettyErrors: true,
  });
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length === 0) throw new ValueError("on line 1, column 1: missing start of document", 0);
  const [doc, extra] = list;
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    const where = pos ? `on line ${pos.line}, column ${pos.col}: ` : "";
    throw new ValueError(where + error.message.split("\n")[0], 0);
  }
  if (extra) {
    const line = str(a, 0, "src").slice(0, extra.range[0]).split("\n").length;
    throw new ValueError(`on line ${line}, column 1: unexpected extra content after value`, 0);
  }
  try {
    return fromYaml(doc.toJS({ maxAliasCount: 1000 }));
  } catch (e) {
    // Unresolved aliases and alias bombs surface only while converting.
    throw new ValueError((e as Error).message, 0);
  }
}

/** A double-quoted YAML scalar. */
function quoted(s: string): string {
  let out = '"';
  for (const c of s) {
    const code = c.codePointAt(0)!;
    if (c === '"' || c === "\\") out += "\\" + c;
    else if (c === "\n") out += "\\n";
    else if (c === "\t") out += "\\t";
    else if (c === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) {
      out += "\\x" + code.toString(16).toUpperCase().padStart(2, "0");
    } else if (code === 0xfeff || (code >= 0x80 && code < 0xa0)) {
      out += "\\u" + code.toString(16).toUpperCase().padStart(4, "0");
    } else out += c;
  }
  return out + '"';
}

/** A literal block scalar (body lines at `indent`), or undefined where the emitter allows none. */
function literal(s: string, indent: string): string | undefined {
  // The emitter's rule: no trailing space, no space before a break, printable characters only.
  // deno-lint-ignore no-control-regex
  if (/ $| \n|[\x00-\x08\x0b-\x1f\x7f]/.test(s)) return undefined;
  const trailing = /\n*$/.exec(s)![0].length;
  const chomp = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  const hint = /^[ \n]/.test(s) ? "2" : "";
  const body = (trailing > 0 ? s.slice(0, s.length - 1) : s).split("\n");
  return `|${hint}${chomp}\n` + body.map((l) => l === "" ? "" : indent + l).join("\n");
}

function scalar(v: Value, indent: string): string {
  if (v === null) return "null";
  if (typeof v === "number") return numberToString(v);
  if (typeof v === "boolean") return String(v);
  const s = v as string;
  return (s.includes("\n") && literal(s, indent)) || quoted(s);
}

/**
 * Lines for `v` whose first line continues what precedes it ("- ", a key);
 * following lines start with `indent`, which is also a literal block's indentation.
 */
function emit(v: Value, indent: string): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return v.map((x, i) => (i === 0 ? "" : indent) + "- " + emit(x, indent + "  ")).join("\n");
  }
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    if (keys.length === 0) return "{}";
    return keys.map((k, i) => {
      const x = v[k];
      const head = (i === 0 ? "" : indent) + quoted(k) + ":";
      if (Array.isArray(x) && x.length > 0) return `${head}\n${indent}${emit(x, indent)}`;
      if (isObject(x) && Object.keys(x).length > 0) {
        return `${head}\n${indent}  ${emit(x, indent + "  ")}`;
      }
      return `${head} ${emit(x, indent + "  ")}`;
    }).join("\n");
  }
  return scalar(v, indent);
}

/** Encodes a value as Packer's yamlencode does. */
export function yamlEncode(v: Value): string {
  const text = Array.isArray(v) || isObject(v) ? emit(v, "") : scalar(v, "  ");
  const plainScalar = v === null || typeof v === "number" || typeof v === "boolean";
  return text + "\n" + (plainScalar ? "...\n" : "");
}

/** The YAML family. */
export const YAML_FUNCTIONS: Record<string, HclFunction> = {
  yamldecode: fn(["src"], yamldecode),
  yamlencode: fn(["value"], (a) => yamlEncode(a[0] ?? null)),
};
