/** A seeded random source, so every fuzz failure reproduces from its seed. */

/** Random choices drawn from one seeded generator. */
export interface Rand {
  /** Uniform in [0, 1). */
  (): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** One element of `xs`. */
  pick<T>(xs: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

/** mulberry32: small, fast, good enough to drive mutations reproducibly. */
export function prng(seed: number): Rand {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rand = next as Rand;
  rand.int = (n) => Math.floor(next() * n);
  rand.pick = (xs) => xs[Math.floor(next() * xs.length)];
  rand.chance = (p) => next() < p;
  return rand;
}
