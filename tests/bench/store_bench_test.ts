/**
 * bench/store.ts end to end at its smallest (one process, one build, a
 * 2,000-event run, once): every figure comes out, both modes wrote the same
 * events, the writer's durable-append hook reported in both, every resume
 * case reached its "Resuming run" line, and the request counts are the
 * emulator's own. Timings are reported, never asserted.
 */
import assert from "node:assert/strict";

const BENCH = new URL("../../bench/store.ts", import.meta.url).pathname;

Deno.test("bench/store.ts: local and store figures, resumes from three places, S3 requests counted", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      BENCH,
      "--processes",
      "1",
      "--builds-per-run",
      "1",
      "--lines",
      "5",
      "--events",
      "2000",
      "--runs",
      "1",
      "--json",
    ],
    // A 2,000-event run still gets snapshots, as a 100,000-event one does at 5,000.
    env: { KILN_SNAPSHOT_EVERY: "500" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const tables = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, tables);
  const raw = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.match(tables, /## 1\.[\s\S]*## 2\.[\s\S]*## 3\. S3 requests/);

  const [local, store] = ["local", "store"].map((m) =>
    raw.concurrent.find((r: { mode: string }) => r.mode === m)
  );
  assert.equal(local.failed + store.failed, 0);
  assert.equal(store.events, local.events, "the same build writes the same events either way");
  assert.ok(local.durableAppends > 0 && store.durableAppends === local.durableAppends);

  const cases = raw.resume.samples.map((s: { case: string }) => s.case).sort();
  assert.deepEqual(cases, ["local .kiln/", "store, fresh runner", "store, same runner"]);
  for (const s of raw.resume.samples) assert.ok(s.events >= 2000, JSON.stringify(s));
  const fresh = raw.resume.samples.find((s: { case: string }) => s.case === "store, fresh runner");
  const warm = raw.resume.samples.find((s: { case: string }) => s.case === "store, same runner");
  assert.ok(fresh.requests.GetObject > warm.requests.GetObject, "a fresh runner downloads the log");
  assert.ok(raw.resume.profile.snapshotSeq > 0, "the resume folds from a snapshot");

  const [build, listing] = raw.requests;
  assert.ok(build.requests.PutObject > 0 && build.units > 0, JSON.stringify(build));
  assert.equal(listing.units, 1, "the listing shows the one run of figure 1");
});
