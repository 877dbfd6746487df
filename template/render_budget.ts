/**
 * Bounds what rendering may produce, checked while strings grow rather than
 * after: a variable that doubles itself 25 times, a `replace_all` that
 * multiplies its input, or the same large value pasted into many options
 * stops at a clear limit instead of taking gigabytes first.
 */
import { EngineError } from "./engine_parse.ts";
import { MAX_RENDERED_LENGTH, MAX_RENDERED_TOTAL, mebibytes } from "./limits.ts";

const CHUNK = 1 << 16;

/** A rendering went past one of the limits; the caller names the variable or JSON path. */
export class RenderLimitError extends EngineError {
  /**
   * @param again the total was already exceeded by an earlier rendering, which
   *   carries the message: callers report only the first.
   */
  constructor(message: string, readonly again = false) {
    super(message);
    this.name = "RenderLimitError";
  }
}

/** The message for a string that would grow past `limit`. */
export function tooLongMessage(limit: number): string {
  return `the rendered value would be longer than ${mebibytes(limit)} (kiln's limit on one ` +
    `rendered string)`;
}

/**
 * The limits one preparation shares: every string any rendering builds
 * stays within `maxLength`, and finished renderings together within `total`.
 */
export class RenderBudget {
  private left: number;
  private exceeded = false;

  constructor(
    readonly maxLength = MAX_RENDERED_LENGTH,
    readonly total = MAX_RENDERED_TOTAL,
  ) {
    this.left = total;
  }

  /** True when a string of `length` characters is within the one-string limit. */
  fits(length: number): boolean {
    return length <= this.maxLength;
  }

  /** Throws RenderLimitError when a string about to reach `length` characters is too long. */
  check(length: number): void {
    if (length > this.maxLength) throw new RenderLimitError(tooLongMessage(this.maxLength));
  }

  /**
   * Applies a character-wise transformation (case, escaping) slice by slice,
   * so an expanding one (`&` → `&amp;`) stops at the limit instead of past it.
   */
  mapChunks(s: string, f: (chunk: string) => string): string {
    let out = "";
    for (let i = 0; i < s.length;) {
      let end = Math.min(i + CHUNK, s.length);
      // Never split a surrogate pair: encodeURIComponent throws on half of one.
      const last = s.charCodeAt(end - 1);
      if (end < s.length && last >= 0xd800 && last <= 0xdbff) end++;
      const piece = f(s.slice(i, end));
      this.check(out.length + piece.length);
      out += piece;
      i = end;
    }
    return out;
  }

  /** Charges a finished rendering against the total; throws RenderLimitError past it. */
  spend(length: number): void {
    if (length > this.left) {
      const again = this.exceeded;
      this.exceeded = true;
      throw new RenderLimitError(
        `rendering this template produces more than ${mebibytes(this.total)} of text in all ` +
          `(kiln's limit on everything one template renders)`,
        again,
      );
    }
    this.left -= length;
  }
}
