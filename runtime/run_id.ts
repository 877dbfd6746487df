/** Run ids: sortable by start time, unique enough, safe as a directory name. */

const pattern = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

/** A new run id such as `20261122T031500Z-ab12cd`. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const rand = crypto.getRandomValues(new Uint8Array(3));
  return `${stamp}-${Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Whether `id` has the shape of a run id (guards path building against `../`). */
export function isRunId(id: string): boolean {
  return pattern.test(id);
}
