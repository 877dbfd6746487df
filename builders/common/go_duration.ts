/**
 * Go's time.Duration at nanosecond precision, for messages that must read as
 * Packer's ("Got -2m0s") and limits that must match its int64 range. Option
 * values themselves decode through template/duration.ts (milliseconds).
 */

const NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n,
  "μs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const INT64_MAX = (1n << 63n) - 1n;

/**
 * Go's time.ParseDuration into nanoseconds; undefined where Go answers
 * `time: invalid duration` (malformed, or beyond int64).
 */
export function parseGoDurationNs(text: string): bigint | undefined {
  let s = text;
  let negative = false;
  if (s[0] === "-" || s[0] === "+") {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") return undefined;
  let total = 0n;
  const re = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/y;
  while (re.lastIndex < s.length) {
    const m = re.exec(s);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) return undefined;
    const unit = NS[m[3]];
    let v = BigInt(m[1] || "0") * unit;
    const frac = m[2] ?? "";
    // Go scales the fraction in float64 and truncates, as here.
    if (frac !== "") v += BigInt(Math.trunc(Number(`0.${frac}`) * Number(unit)));
    total += v;
    if (total > INT64_MAX + (negative ? 1n : 0n)) return undefined;
  }
  return negative ? -total : total;
}

function fraction(v: bigint, prec: number): { text: string; rest: bigint } {
  let text = "";
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print ||= digit !== 0n;
    if (print) text = digit.toString() + text;
    v /= 10n;
  }
  return { text: print ? "." + text : "", rest: v };
}

/** Go's Duration.String: "1h2m3.5s", "-2m0s", "500ms", "0s". */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return "0s";
  const negative = ns < 0n;
  let u = negative ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    const [prec, unit] = u < 1_000n ? [0, "ns"] : u < 1_000_000n ? [3, "µs"] : [6, "ms"];
    const f = fraction(u, prec);
    out = `${f.rest}${f.text}${unit}`;
  } else {
    const f = fraction(u, 9);
    u = f.rest;
    out = `${u % 60n}${f.text}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return negative ? "-" + out : out;
}
