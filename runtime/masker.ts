/**
 * Replaces registered secrets by `<sensitive>` in strings and JSON values.
 * One masker per run is shared by the log writer and every UI, so a secret
 * registered anywhere (template, secret store, a step) is hidden everywhere.
 */

/** The text that stands in for a secret, as in Packer. */
export const MASK = "<sensitive>";

/** A set of secret values and the means to hide them. */
export class Masker {
  #secrets: string[] = [];

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Registers a secret (empty values are ignored: they would mask everything). */
  add(secret: string): void {
    if (secret === "" || this.#secrets.includes(secret)) return;
    this.#secrets.push(secret);
    // Longest first, so a secret containing another is masked whole.
    this.#secrets.sort((a, b) => b.length - a.length);
  }

  /** Number of registered secrets. */
  get size(): number {
    return this.#secrets.length;
  }

  /** `text` with every registered secret replaced. */
  maskText(text: string): string {
    let out = text;
    for (const s of this.#secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  }

  /** A deep copy of a JSON value with secrets masked in every string (keys included). */
  maskValue<T>(value: T): T {
    if (this.#secrets.length === 0) return value;
    return this.#mask(value) as T;
  }

  #mask(value: unknown): unknown {
    if (typeof value === "string") return this.maskText(value);
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map((v) => this.#mask(v));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[this.maskText(k)] = this.#mask(v);
    return out;
  }
}
