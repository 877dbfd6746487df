/** Go duration strings ("1h5m2s", "500ms", "1.5h", "0") as Packer's options accept them. */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's longest duration (int64 nanoseconds), in milliseconds: 2562047h47m16.854775807s. */
export const MAX_DURATION_MS = 9223372036854.775;

/** Go's longest duration as Go prints it, for messages. */
export const MAX_DURATION_TEXT = "2562047h47m16.854775807s";

/** True when a number of nanoseconds does not fit Go's time.Duration (int64). */
export function nanosecondsOutOfRange(ns: number): boolean {
  return !Number.isFinite(ns) || Math.abs(Math.trunc(ns)) >= 2 ** 63;
}

/**
 * True when `text` is a well-formed duration that Go's time.ParseDuration
 * still refuses because it does not fit int64 nanoseconds ("99999999999h").
 */
export function durationOutOfRange(text: string): boolean {
  const ms = parseUnbounded(text);
  return ms !== undefined && Math.abs(ms) > MAX_DURATION_MS;
}

/**
 * Parses a Go duration into milliseconds; undefined when it is not one, or
 * does not fit int64 nanoseconds (Go's time.ParseDuration).
 */
export function parseDuration(text: string): number | undefined {
  const ms = parseUnbounded(text);
  return ms === undefined || Math.abs(ms) > MAX_DURATION_MS ? undefined : ms;
}

function parseUnbounded(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return undefined;
  let total = 0;
  // Sticky, so a long string is read in one pass instead of being sliced per unit.
  // Unambiguous digits (no "\d+\d*" overlap), so a long run of digits fails in linear time.
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  while (re.lastIndex < s.length) {
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  return sign * total;
}
