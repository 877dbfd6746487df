/**
 * Damaged copies of a real event log: truncated at any byte (a crash
 * mid-append, a full disk), or hand-edited one field at a time (what the hash
 * chain exists to catch), or with bytes that are not UTF-8.
 */
import { canonicalJson } from "../../runtime/canonical.ts";

/** One damaged log. */
export interface LogCase {
  /** What was done ("line 7: data.exitCode 0 -> 1"). */
  what: string;
  bytes: Uint8Array;
}

/** Byte offsets where every line ends (after its newline). */
export function lineEnds(bytes: Uint8Array): number[] {
  const ends: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) ends.push(i + 1);
  return ends;
}

/** A different value of the same JSON type (or a null for a non-null and vice versa). */
function altered(value: unknown): unknown {
  if (typeof value === "string") {
    if (value === "") return "x";
    const c = value.charCodeAt(value.length - 1);
    return value.slice(0, -1) + String.fromCharCode(c === 0x61 ? 0x62 : 0x61);
  }
  if (typeof value === "number") return value + 1;
  if (typeof value === "boolean") return !value;
  if (value === null) return 0;
  if (Array.isArray(value)) return [...value, null];
  return { ...(value as object), edited: true };
}

type Leaf = { path: (string | number)[]; value: unknown };

/** Every field of a record, nested ones included (containers and leaves). */
function fields(value: unknown, path: (string | number)[] = []): Leaf[] {
  const out: Leaf[] = [];
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const p = [...path, Array.isArray(value) ? Number(k) : k];
      out.push({ path: p, value: v });
      out.push(...fields(v, p));
    }
  }
  return out;
}

function setAt(
  root: unknown,
  path: (string | number)[],
  edit: (holder: never, key: never) => void,
) {
  let holder = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) holder = holder[k] as Record<string | number, unknown>;
  edit(holder as never, path.at(-1) as never);
}

/**
 * Every single-field edit of every record: each field (top-level and nested)
 * changed to another value of its type, removed, and one field added per
 * record; the record is re-serialized canonically with its old hash, exactly
 * what a person editing the file would leave.
 */
export function* fieldEdits(bytes: Uint8Array): Generator<LogCase> {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const encode = (edited: string[]) => new TextEncoder().encode(edited.join("\n") + "\n");
  for (let n = 0; n < lines.length; n++) {
    const record = JSON.parse(lines[n]);
    const replaceLine = (rec: unknown) => {
      const copy = [...lines];
      copy[n] = canonicalJson(rec);
      return encode(copy);
    };
    for (const { path, value } of fields(record)) {
      const name = path.join(".");
      const changed = structuredClone(record);
      setAt(changed, path, (h: Record<string | number, unknown>, k: string | number) => {
        h[k] = altered(value);
      });
      yield {
        what: `line ${n + 1}: ${name} ${short(value)} -> ${short(altered(value))}`,
        bytes: replaceLine(changed),
      };
      const removed = structuredClone(record);
      setAt(removed, path, (h: Record<string | number, unknown>, k: string | number) => {
        if (Array.isArray(h)) h.splice(Number(k), 1);
        else delete h[k];
      });
      yield { what: `line ${n + 1}: ${name} removed`, bytes: replaceLine(removed) };
    }
    yield { what: `line ${n + 1}: field added`, bytes: replaceLine({ ...record, note: "edited" }) };
  }
}

/** Whole-line edits: each line deleted, duplicated, swapped with the next. */
export function* lineEdits(bytes: Uint8Array): Generator<LogCase> {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const encode = (edited: string[]) => new TextEncoder().encode(edited.join("\n") + "\n");
  for (let n = 0; n < lines.length; n++) {
    // Without the last line the log is what a crash before that append leaves
    // (a truncation, covered there): no chain can tell the two apart.
    if (n + 1 < lines.length) {
      yield { what: `line ${n + 1} deleted`, bytes: encode(lines.toSpliced(n, 1)) };
    }
    yield { what: `line ${n + 1} duplicated`, bytes: encode(lines.toSpliced(n, 0, lines[n])) };
    if (n + 1 < lines.length) {
      const swapped = [...lines];
      [swapped[n], swapped[n + 1]] = [swapped[n + 1], swapped[n]];
      yield { what: `lines ${n + 1} and ${n + 2} swapped`, bytes: encode(swapped) };
    }
  }
}

/** One byte of each line replaced by a byte that is not UTF-8 (0xff, 0xc0, a lone 0x80). */
export function* nonUtf8Edits(bytes: Uint8Array): Generator<LogCase> {
  let start = 0;
  let n = 0;
  for (const end of lineEnds(bytes)) {
    n++;
    const mid = start + Math.floor((end - 1 - start) / 2);
    for (const bad of [0xff, 0xc0, 0x80]) {
      const copy = bytes.slice();
      copy[mid] = bad;
      yield { what: `line ${n}: byte ${mid} -> 0x${bad.toString(16)}`, bytes: copy };
    }
    start = end;
  }
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? "undefined";
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
