/** Packer-style human durations: "1 second 18 milliseconds 95 microseconds". */

const units: [string, number][] = [
  ["hour", 3_600_000_000],
  ["minute", 60_000_000],
  ["second", 1_000_000],
  ["millisecond", 1_000],
  ["microsecond", 1],
];

/** Formats milliseconds (fractions kept down to microseconds) like Packer's build timings. */
export function humanDuration(ms: number): string {
  let micros = Math.max(0, Math.round(ms * 1000));
  const parts: string[] = [];
  for (const [name, size] of units) {
    const n = Math.floor(micros / size);
    micros -= n * size;
    if (n > 0) parts.push(`${n} ${name}${n === 1 ? "" : "s"}`);
  }
  return parts.length === 0 ? "0 seconds" : parts.join(" ");
}

/** Compact elapsed time for progress lines and tables: "850ms", "12.3s", "4m05s", "1h02m". */
export function shortDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}
