/**
 * State is never masked; output always is. A secret can sit inside state a
 * resumed process must read back exactly — a path built from a sensitive
 * variable, an id — yet the log must never hold it in clear. So in every
 * record but output lines, the writer replaces a secret by a reference,
 * `<sensitive:N>`, N indexing the run's table of such values. The table
 * lives with the run's other secrets (`secrets/state-secrets.json`, 0600,
 * MAC'd with the run's seal key), and readers that restore state swap the
 * references back. Readers without the table (a finished run whose secrets
 * are gone, `runs show`) display `<sensitive>`.
 *
 * A literal `<sensitive:` already in state is escaped as `<sensitive:~`
 * (one more `~` per level), so restoring is exact for every string.
 */
import fs from "node:fs";
import { dirname, join } from "node:path";
import { canonicalJson } from "./canonical.ts";
import { replicaOf } from "./replica.ts";
import { mapStrings, MASK, type Masker } from "./masker.ts";
import type { RunSeal } from "./seal.ts";

const PREFIX = "<sensitive:";
const TOKEN_OR_ESCAPE = /<sensitive:(?:(\d+)>|~)/g;

/** File name of the table in the run's secrets directory. */
export const STATE_SECRETS_FILE = "state-secrets.json";

/** The table could not be trusted or lacks a value a record refers to. */
export class SecretRefsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretRefsError";
  }
}

/** A run's table of secrets referenced from state. */
export class SecretRefs {
  #values: string[] = [];
  #index = new Map<string, number>();
  #masker: Masker;
  #persist?: (values: readonly string[]) => void;
  /** Indexes the log referred to that the table does not hold (left as references). */
  readonly missing: Set<number> = new Set();

  /**
   * `persist` is called (synchronously, before the record that uses it is
   * written) whenever a new value enters the table.
   */
  constructor(masker: Masker, persist?: (values: readonly string[]) => void) {
    this.#masker = masker;
    this.#persist = persist;
  }

  /** Values by index. */
  get values(): readonly string[] {
    return this.#values;
  }

  /** Restores a table read back from disk (indexes keep their meaning); registers the values. */
  load(values: readonly string[]): void {
    for (const v of values) {
      this.#index.set(v, this.#values.length);
      this.#values.push(v);
      this.#masker.add(v);
    }
  }

  /** A copy of a JSON value with every secret replaced by its reference. */
  maskState<T>(value: T): T {
    const before = this.#values.length;
    const out = mapStrings(value, (s) => {
      const text = s.includes(PREFIX) ? s.replaceAll(PREFIX, `${PREFIX}~`) : s;
      return this.#masker.replace(text, (secret) => this.#ref(secret));
    }) as T;
    if (this.#values.length > before) this.#persist?.(this.#values);
    return out;
  }

  /** A copy of a JSON value with references restored to the secrets they stand for. */
  unmaskState<T>(value: T): T {
    return mapStrings(value, (s) => this.unmaskText(s)) as T;
  }

  /** One string with references restored. */
  unmaskText(s: string): string {
    if (!s.includes(PREFIX)) return s;
    return s.replace(TOKEN_OR_ESCAPE, (_m, n: string | undefined) => {
      if (n === undefined) return PREFIX;
      const value = this.#values[Number(n)];
      if (value !== undefined) return value;
      // The table is gone (a finished run) or damaged: the reference stays,
      // and whoever would act on it refuses (see unresolved()).
      this.missing.add(Number(n));
      return `${PREFIX}${n}>`;
    });
  }

  #ref(secret: string): string {
    let n = this.#index.get(secret);
    if (n === undefined) {
      n = this.#values.length;
      this.#values.push(secret);
      this.#index.set(secret, n);
    }
    return `${PREFIX}${n}>`;
  }
}

/** Whether a JSON value still holds a reference the table could not restore. */
export function hasUnresolvedRef(value: unknown): boolean {
  return /<sensitive:\d+>/.test(JSON.stringify(value ?? null));
}

/** State as people see it: references shown as `<sensitive>`, escapes undone. */
export function displayState<T>(value: T): T {
  return mapStrings(value, displayText) as T;
}

/** One string as people see it (see displayState). */
export function displayText(s: string): string {
  if (!s.includes(PREFIX)) return s;
  return s.replace(TOKEN_OR_ESCAPE, (_m, n: string | undefined) => n === undefined ? PREFIX : MASK);
}

/** Writes the table (0600, atomically, fsynced), authenticated by the run's seal key. */
export function writeSecretTable(dir: string, seal: RunSeal, values: readonly string[]): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const body = { run: seal.runId, values: [...values] };
  const text = JSON.stringify({ ...body, mac: seal.mac(canonicalJson(body)) });
  const file = join(dir, STATE_SECRETS_FILE);
  const tmp = `${file}.${Deno.pid}.tmp`;
  const fd = fs.openSync(tmp, "w", 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  replicaOf(dirname(dir))?.putSecret(STATE_SECRETS_FILE, new TextEncoder().encode(text));
}

/**
 * Reads the table back; [] when there is none. Throws SecretRefsError when
 * it exists but was not written by this run (wrong MAC).
 */
export function readSecretTable(dir: string, seal: RunSeal): string[] {
  let text: string;
  try {
    const file = join(dir, STATE_SECRETS_FILE);
    if (!fs.lstatSync(file).isFile()) throw new SecretRefsError(`${file} is not a regular file`);
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return [];
    throw err;
  }
  let parsed: { run?: unknown; values?: unknown; mac?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SecretRefsError(`${join(dir, STATE_SECRETS_FILE)} is not JSON`);
  }
  const values = parsed.values;
  if (
    parsed.run !== seal.runId || !Array.isArray(values) ||
    !values.every((v) => typeof v === "string") ||
    !seal.verify(canonicalJson({ run: parsed.run, values }), String(parsed.mac))
  ) {
    throw new SecretRefsError(
      `${join(dir, STATE_SECRETS_FILE)} was not written by this run (its seal does not match)`,
    );
  }
  return values as string[];
}
