/**
 * Replaces registered secrets by `<sensitive>` in strings and JSON values.
 * One masker per run is shared by the log writer and every UI, so a secret
 * registered anywhere (template, secret store, a step) is hidden everywhere.
 *
 * Output arrives line by line, so a multi-line secret (a PEM key passed as
 * a variable) would never match whole: each of its lines is registered as
 * a secret of its own. Lines shorter than MIN_LINE_SECRET characters carry
 * next to nothing of the secret and would mask ordinary text everywhere.
 */

/** The text that stands in for a secret, as in Packer. */
export const MASK = "<sensitive>";

/** Shortest line of a multi-line secret that is masked on its own. */
export const MIN_LINE_SECRET = 4;

/**
 * What code that cuts or summarises output needs so that a cut never falls
 * inside a secret (a cut secret no longer matches and would leak in pieces).
 */
export interface OutputGuard {
  /** `text` with every secret masked. */
  maskText(text: string): string;
  /** [start, end) of every secret in `text`, left to right. */
  spans(text: string): [number, number][];
  /** Length of the longest secret. */
  readonly longest: number;
}

/** A set of secret values and the means to hide them. */
export class Masker implements OutputGuard {
  #secrets: string[] = [];
  #longest = 0;
  #pattern?: RegExp;

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Registers a secret and, for a multi-line one, each of its lines. */
  add(secret: string): void {
    this.#addOne(secret);
    if (!secret.includes("\n") && !secret.includes("\r")) return;
    for (const line of secret.split(/\r?\n|\r/)) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_LINE_SECRET) this.#addOne(trimmed);
    }
  }

  #addOne(secret: string): void {
    // Empty values would mask everything.
    if (secret === "" || this.#secrets.includes(secret)) return;
    this.#secrets.push(secret);
    // Longest first, so a secret containing another is masked whole.
    this.#secrets.sort((a, b) => b.length - a.length);
    this.#longest = Math.max(this.#longest, secret.length);
    this.#pattern = undefined;
  }

  /** Number of registered secrets (lines of multi-line secrets included). */
  get size(): number {
    return this.#secrets.length;
  }

  /** Every registered value, longest first. */
  get secrets(): readonly string[] {
    return this.#secrets;
  }

  /** Length of the longest registered value (0 when none). */
  get longest(): number {
    return this.#longest;
  }

  /** `text` with every registered secret replaced. */
  maskText(text: string): string {
    return this.replace(text, () => MASK);
  }

  /**
   * `text` with every registered secret replaced by what `stand` returns for
   * it. One pass, longest secret first at each position: a replacement is
   * never searched again, so a short secret cannot match inside the text
   * that stands for a longer one.
   */
  replace(text: string, stand: (secret: string) => string): string {
    if (this.#secrets.length === 0) return text;
    this.#pattern ??= new RegExp(this.#secrets.map(escapeRegExp).join("|"), "g");
    return text.replace(this.#pattern, stand);
  }

  /** [start, end) of every registered secret in `text`, left to right. */
  spans(text: string): [number, number][] {
    if (this.#secrets.length === 0) return [];
    this.#pattern ??= new RegExp(this.#secrets.map(escapeRegExp).join("|"), "g");
    return [...text.matchAll(this.#pattern)].map((m) => [m.index, m.index + m[0].length]);
  }

  /** A deep copy of a JSON value with secrets masked in every string (keys included). */
  maskValue<T>(value: T): T {
    if (this.#secrets.length === 0) return value;
    return mapStrings(value, (s) => this.maskText(s)) as T;
  }
}

/** A deep copy of a JSON value with `fn` applied to every string, keys included. */
export function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === "string") return fn(value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[fn(k)] = mapStrings(v, fn);
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
