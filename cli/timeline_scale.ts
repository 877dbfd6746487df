/**
 * The time axis of a run's timeline page: drives share one axis, and a long
 * idle gap between them (a kill -9 at night, `--resume` next morning) is
 * drawn as a short break instead of swallowing the width.
 */
import type { TimelineDrive } from "../runtime/timeline.ts";

/** Pixels a compressed idle gap takes. */
export const GAP_PX = 44;

interface Piece {
  from: number;
  to: number;
  x0: number;
  x1: number;
  /** An idle gap drawn as a break. */
  gap: boolean;
}

/** Maps epoch ms to x on [x0, x1]. */
export class TimeScale {
  readonly pieces: Piece[] = [];

  constructor(drives: TimelineDrive[], start: number, end: number, x0: number, x1: number) {
    const spans: { from: number; to: number; gap: boolean }[] = [];
    const active = drives.length > 0 ? drives : [{ start, end } as TimelineDrive];
    let busy = 0;
    for (const [i, d] of active.entries()) {
      spans.push({ from: d.start, to: Math.max(d.end, d.start), gap: false });
      busy += Math.max(d.end - d.start, 0);
      const next = active[i + 1];
      if (next) spans.push({ from: d.end, to: Math.max(next.start, d.end), gap: true });
    }
    // A gap is a break only when it would take more room than the work around it.
    const breakAt = Math.max(busy * 0.15, 1);
    for (const s of spans) if (s.gap && s.to - s.from <= breakAt) s.gap = false;
    const breaks = spans.filter((s) => s.gap).length;
    const linear = spans.filter((s) => !s.gap).reduce((n, s) => n + (s.to - s.from), 0);
    const perMs = (x1 - x0 - breaks * GAP_PX) / Math.max(linear, 1);
    let x = x0;
    for (const s of spans) {
      const w = s.gap ? GAP_PX : (s.to - s.from) * perMs;
      this.pieces.push({ ...s, x0: x, x1: x + w });
      x += w;
    }
  }

  /** The x of time `t` (clamped to the axis). */
  x(t: number): number {
    const first = this.pieces[0];
    if (!first || t <= first.from) return first?.x0 ?? 0;
    for (const p of this.pieces) {
      if (t <= p.to) {
        return p.to === p.from ? p.x0 : p.x0 + (t - p.from) / (p.to - p.from) * (p.x1 - p.x0);
      }
    }
    return this.pieces.at(-1)!.x1;
  }

  /** Tick times (epoch ms) at a round step, none inside a break, about `count` of them. */
  ticks(start: number, count: number): number[] {
    const linear = this.pieces.filter((p) => !p.gap);
    const busy = linear.reduce((n, p) => n + (p.to - p.from), 0);
    const step = niceStep(busy / Math.max(count, 1));
    const out: number[] = [];
    for (const p of linear) {
      const first = Math.ceil((p.from - start) / step) * step + start;
      for (let t = first; t <= p.to; t += step) {
        if (out.length === 0 || t > out.at(-1)!) out.push(t);
      }
    }
    return out;
  }
}

const STEPS = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  1000,
  2000,
  5000,
  10_000,
  15_000,
  30_000,
  60_000,
  120_000,
  300_000,
  600_000,
  900_000,
  1_800_000,
  3_600_000,
  7_200_000,
  21_600_000,
  43_200_000,
  86_400_000,
];

/** The smallest round step (ms) of at least `ms`. */
function niceStep(ms: number): number {
  return STEPS.find((s) => s >= ms) ?? STEPS.at(-1)!;
}
