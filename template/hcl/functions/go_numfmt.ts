/**
 * Go's fmt number verbs (%e %f %g %d %x %o %b) as `format` applies them to
 * HCL numbers. Rounding works on the exact binary value with ties to even,
 * as Go's big.Float does, so `format("%.0f", 2.5)` is "2" like Packer, not
 * "3" like JavaScript's toFixed.
 */

/** A decimal: value = 0.digits × 10^dp. digits has no leading zeros ("" for zero). */
interface Decimal {
  digits: string;
  dp: number;
}

/** The exact decimal expansion of a finite double. */
function exact(x: number): Decimal {
  x = Math.abs(x);
  if (x === 0) return { digits: "", dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0), lo = view.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e = bexp - 1075;
  if (bexp === 0) e = -1074;
  else mant |= 1n << 52n;
  let digits: string, frac: number;
  if (e >= 0) [digits, frac] = [(mant << BigInt(e)).toString(), 0];
  else [digits, frac] = [(mant * 5n ** BigInt(-e)).toString(), -e];
  return trimZeros({ digits, dp: digits.length - frac });
}

function trimZeros(d: Decimal): Decimal {
  const lead = d.digits.length - d.digits.replace(/^0+/, "").length;
  const digits = d.digits.slice(lead).replace(/0+$/, "");
  return { digits, dp: digits === "" ? 0 : d.dp - lead };
}

/** Rounds to `n` significant digits, ties to even. */
function round(d: Decimal, n: number): Decimal {
  if (n >= d.digits.length) return d;
  if (n < 0) return { digits: "", dp: 0 };
  const next = d.digits[n];
  const rest = d.digits.slice(n + 1);
  const prevOdd = n > 0 && Number(d.digits[n - 1]) % 2 === 1;
  const up = next > "5" || (next === "5" && (/[1-9]/.test(rest) || prevOdd));
  const kept = d.digits.slice(0, n);
  if (!up) return trimZeros({ digits: kept, dp: d.dp });
  const bumped = (BigInt(kept || "0") + 1n).toString();
  const grew = bumped.length > n;
  return trimZeros({ digits: bumped, dp: d.dp + (grew ? 1 : 0) });
}

/** The shortest digits that read back as `x` (what Go's shortest formatting uses). */
function shortest(x: number): Decimal {
  if (x === 0) return { digits: "", dp: 0 };
  const [mant, e] = Math.abs(x).toExponential().split("e");
  return trimZeros({ digits: mant.replace(".", ""), dp: Number(e) + 1 });
}

const digitAt = (d: Decimal, i: number) => d.digits[i] ?? "0";

function fmtE(d: Decimal, prec: number, upper: boolean): string {
  let s = digitAt(d, 0);
  if (prec > 0) s += "." + Array.from({ length: prec }, (_, i) => digitAt(d, i + 1)).join("");
  const exp = d.digits === "" ? 0 : d.dp - 1;
  const sign = exp < 0 ? "-" : "+";
  return `${s}${upper ? "E" : "e"}${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
}

function fmtF(d: Decimal, prec: number): string {
  let int = "";
  for (let i = 0; i < d.dp; i++) int += digitAt(d, i);
  let s = int || "0";
  if (prec > 0) {
    s += ".";
    for (let i = 0; i < prec; i++) s += d.dp + i < 0 ? "0" : digitAt(d, d.dp + i);
  }
  return s;
}

/**
 * Formats the magnitude of `x` for a float verb (e E f F g G); the caller
 * adds the sign. `prec` undefined means Go's default (6, or shortest for g).
 */
export function formatFloat(x: number, verb: string, prec: number | undefined): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "NaN" : "Inf";
  const upper = verb === "E" || verb === "G";
  switch (verb) {
    case "e":
    case "E": {
      const p = prec ?? 6;
      return fmtE(round(exact(x), p + 1), p, upper);
    }
    case "f":
    case "F": {
      const p = prec ?? 6;
      const d = exact(x);
      return fmtF(round(d, d.dp + p), p);
    }
    default: {
      const short = prec === undefined;
      const p = prec === 0 ? 1 : prec;
      const d = short ? shortest(x) : round(exact(x), p!);
      let eprec = short ? 6 : p!;
      if (!short && eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
      const exp = d.digits === "" ? 0 : d.dp - 1;
      if (exp < -4 || exp >= eprec) return fmtE(d, Math.max(d.digits.length - 1, 0), upper);
      return fmtF(d, Math.max(d.digits.length - d.dp, 0));
    }
  }
}

/** Formats the magnitude of a whole number in base 2, 8, 10 or 16. */
export function formatInteger(x: number, radix: number, upper: boolean): string {
  const s = BigInt(Math.abs(x)).toString(radix);
  return upper ? s.toUpperCase() : s;
}
