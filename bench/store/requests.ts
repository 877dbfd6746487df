/**
 * Figure 3: S3 requests, by operation, that the store costs — one null
 * build of N events, a `runs` listing of a store holding many runs (on a
 * fresh runner, then again on the same one), and the resumes of figure 2 —
 * counted by the emulator, so every request the kiln process sent is in it
 * (retries included, had there been any).
 */
import { join } from "node:path";
import type { BenchLab } from "./lab.ts";
import { runIdOf } from "./lab.ts";
import { StoreClient } from "../../store/s3.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** Requests of one measured command. */
export interface RequestCount {
  what: string;
  requests: Record<string, number>;
  total: number;
  /** Events the build wrote, or runs the listing showed. */
  units: number;
  unit: "event" | "run";
  seconds: number;
  /** For a build: the objects it left in the store, by kind (log segments, snapshots, ...). */
  objects?: Record<string, number>;
}

function total(requests: Record<string, number>): number {
  return Object.values(requests).reduce((a, b) => a + b, 0);
}

async function counted(
  lab: BenchLab,
  what: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ count: Omit<RequestCount, "units" | "unit">; stdout: string; stderr: string }> {
  await lab.s3.resetCalls();
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  const dec = new TextDecoder();
  const [stdout, stderr] = [dec.decode(out.stdout), dec.decode(out.stderr)];
  if (out.code !== 0) throw new Error(`kiln ${args.join(" ")} failed:\n${stderr}`);
  const requests = await lab.s3.calls();
  return { count: { what, requests, total: total(requests), seconds }, stdout, stderr };
}

/** One null build in the store (lease and everything else at their defaults). */
export async function requestsOfBuild(lab: BenchLab, template: string): Promise<RequestCount> {
  const home = await Deno.makeTempDir({ dir: lab.dir, prefix: "fig3-build-" });
  const { count, stdout, stderr } = await counted(
    lab,
    "one null build",
    ["build", template],
    lab.env("store", "fig3/", home),
  );
  const runId = runIdOf(stdout + stderr);
  const text = await Deno.readTextFile(join(home, "runs", runId, "events.jsonl"));
  const client = new StoreClient(lab.storeConfig("fig3/"));
  const objects: Record<string, number> = {};
  for (const key of await client.list(`fig3/${runId}/`)) {
    // log/000000000001 -> "log/", seal.json -> "seal.json"
    const kind = key.slice(`fig3/${runId}/`.length).replace(/\/.*/, "/");
    objects[kind] = (objects[kind] ?? 0) + 1;
  }
  client.destroy();
  return { ...count, units: text.trimEnd().split("\n").length, unit: "event", objects };
}

/** `kiln runs` over the runs under `prefix`: on a fresh runner, then again on the same one. */
export async function requestsOfListing(
  lab: BenchLab,
  prefix: string,
  expectedRuns: number,
): Promise<RequestCount[]> {
  const home = await Deno.makeTempDir({ dir: lab.dir, prefix: "fig3-runs-" });
  const out: RequestCount[] = [];
  for (const what of ["`runs`, fresh runner", "`runs` again, same runner"]) {
    const { count, stdout } = await counted(lab, what, ["runs"], lab.env("store", prefix, home));
    const listed = (stdout.match(/\d{8}T\d{6}Z-[0-9a-f]{6}/g) ?? []).length;
    if (listed !== expectedRuns) {
      throw new Error(`kiln runs listed ${listed} runs, the store holds ${expectedRuns}`);
    }
    out.push({ ...count, units: listed, unit: "run" });
  }
  return out;
}

/** Sums request counts by operation. */
export function totalRequests(requests: Record<string, number>): number {
  return total(requests);
}
