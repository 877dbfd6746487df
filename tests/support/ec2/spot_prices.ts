/**
 * The emulated spot market: a fixed price per instance type, so fleets pick
 * the cheapest of their overrides deterministically and a `MaxPrice` below
 * the market is refused as EC2 does (`SpotMaxPriceTooLow`).
 */

const SIZE_PRICES: Record<string, number> = {
  nano: 0.0015,
  micro: 0.003,
  small: 0.006,
  medium: 0.012,
  large: 0.025,
  xlarge: 0.05,
};

const FAMILY_FACTORS: Record<string, number> = { c: 0.9, m: 1, t: 0.8, r: 1.3 };

/** Spot price (USD per hour) of an instance type, e.g. 0.0225 for c5.large. */
export function spotPriceOf(instanceType: string): number {
  const [family = "", size = ""] = instanceType.split(".");
  const multiple = /^(\d+)xlarge$/.exec(size);
  const base = multiple ? SIZE_PRICES.xlarge * Number(multiple[1]) : SIZE_PRICES[size] ?? 0.05;
  const factor = FAMILY_FACTORS[family[0] ?? ""] ?? 1.1;
  return Math.round(base * factor * 10_000) / 10_000;
}

/** The on-demand price: the cap when a request names no maximum price. */
export function onDemandPriceOf(instanceType: string): number {
  return Math.round(spotPriceOf(instanceType) * 3 * 10_000) / 10_000;
}
