/**
 * Values as the template executor sees them, and Go's default text
 * formatting of them (`fmt.Sprint`), so `{{ .Missing }}` prints `<no value>`
 * and `{{ 1.5 }}` prints `1.5` exactly as Packer does.
 */

/** An integer constant or result: Go distinguishes ints from floats for argument checks. */
export class GoInt {
  constructor(readonly value: number) {}
}

/** Formats a value like Go's `fmt.Sprint` (`%v`). */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return "<nil>";
  if (v instanceof GoInt) return String(v.value);
  if (typeof v === "number") return formatFloat(v);
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  if (typeof v === "object") {
    const keys = Object.keys(v as Record<string, unknown>).sort();
    return `map[${
      keys.map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`).join(" ")
    }]`;
  }
  return String(v);
}

/** Go's %v for float64: shortest representation, exponent form for large/small magnitudes. */
function formatFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : "-Inf";
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) {
    return n.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  }
  return String(n);
}

/**
 * Go's `%.Nf`: the exact decimal value of the float, rounded half to even at
 * `prec` digits (toFixed rounds half up, stops at 100 digits and switches to
 * exponent form at 1e21).
 */
export function formatFixed(v: number, prec: number): string {
  if (!Number.isFinite(v)) return formatFloat(v);
  const bits = new DataView(new Float64Array([Math.abs(v)]).buffer).getBigUint64(0, true);
  const exponent = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
  const shift = exponent === 0 ? -1074 : exponent - 1075;
  // |v| = mantissa * 2^shift; with k = -shift fractional bits it is mantissa * 5^k / 10^k.
  const k = Math.max(0, -shift);
  const digits = (shift >= 0 ? mantissa << BigInt(shift) : mantissa * 5n ** BigInt(k))
    .toString().padStart(k + 1, "0");
  let whole = BigInt(digits.slice(0, digits.length - k) || "0");
  let frac = digits.slice(digits.length - k);
  if (frac.length <= prec) frac = frac.padEnd(prec, "0");
  else {
    const rest = frac.slice(prec);
    const kept = BigInt(whole.toString() + frac.slice(0, prec));
    const odd = kept % 2n === 1n;
    const up = rest[0] > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || odd));
    const rounded = (kept + (up ? 1n : 0n)).toString().padStart(prec + 1, "0");
    whole = BigInt(rounded.slice(0, rounded.length - prec));
    frac = rounded.slice(rounded.length - prec);
  }
  const sign = v < 0 || Object.is(v, -0) ? "-" : "";
  return `${sign}${whole}${prec > 0 ? `.${frac}` : ""}`;
}

/** Go's truth: false, 0, nil and empty strings/collections are false. */
export function isTrue(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === "") return false;
  if (v instanceof GoInt) return v.value !== 0;
  if (typeof v === "number") return v !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v as object).length > 0;
  return true;
}

/** The plain JS value behind a template value (unwraps GoInt). */
export function plain(v: unknown): unknown {
  return v instanceof GoInt ? v.value : v;
}

/** Go's type name for messages ("string", "int", ...). */
export function goType(v: unknown): string {
  if (v === undefined || v === null) return "nil";
  if (v instanceof GoInt) return "int";
  if (typeof v === "number") return "float64";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "[]interface {}";
  return "map[string]interface {}";
}
