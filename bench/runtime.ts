/**
 * Runtime benchmarks (`deno task bench`):
 *  1. resume latency: read + verify + fold a synthetic 100,000-event log (goal <= 0.3 s);
 *  2. event append throughput, with fsync (durable events) and batched (the rest);
 *  3. null + shell-local build, kiln vs `packer build` (hyperfine; wall time and peak RSS).
 */
import { join } from "node:path";
import { canonicalJson, sha256Hex } from "../runtime/canonical.ts";
import { EventLog } from "../runtime/event_log.ts";
import { readEventLog } from "../runtime/log_reader.ts";
import { foldRun } from "../runtime/fold.ts";
import { Masker } from "../runtime/masker.ts";
import { eventsPath } from "../runtime/paths.ts";
import { newRunId } from "../runtime/run_id.ts";

const tmp = await Deno.makeTempDir({ prefix: "kiln-bench-" });

/** A realistic mix: steps, resources, provisioners and lots of output lines. */
async function syntheticLog(count: number): Promise<string> {
  const runId = newRunId();
  await Deno.mkdir(join(tmp, "runs", runId), { recursive: true });
  const lines: string[] = [];
  let prev = "";
  const push = (
    build: string | null,
    step: string | null,
    type: string,
    data: Record<string, unknown>,
  ) => {
    const body = {
      seq: lines.length + 1,
      ts: new Date().toISOString(),
      run: runId,
      build,
      step,
      type,
      data,
      prev,
    };
    const hash = sha256Hex(canonicalJson(body));
    lines.push(canonicalJson({ ...body, hash }));
    prev = hash;
  };
  push(null, null, "RunStarted", {
    template: "t.json",
    templateDigest: "d",
    inputsDigest: "i",
    builds: ["b0", "b1", "b2", "b3"],
  });
  let i = 0;
  while (lines.length < count) {
    const build = `b${i % 4}`;
    const step = `step.${i % 50}`;
    const r = i % 10;
    if (r === 0) push(build, step, "StepStarted", {});
    else if (r === 1) push(build, step, "ResourceIntent", { kind: "file", token: `t${i}` });
    else if (r === 2) push(build, step, "ResourceCreated", { kind: "file", id: `/tmp/r${i}` });
    else if (r === 3) push(build, step, "StepSucceeded", { output: { path: `/tmp/r${i}`, n: i } });
    else if (r === 4) push(build, step, "ProvisionerSucceeded", { index: i });
    else {push(build, step, "Ui", {
        level: "message",
        message: `line ${i} of provisioner output`,
        prefix: build,
      });}
    i++;
  }
  await Deno.writeTextFile(eventsPath(runId, tmp), lines.join("\n") + "\n");
  return runId;
}

async function resumeLatency(): Promise<void> {
  const runId = await syntheticLog(100_000);
  const file = eventsPath(runId, tmp);
  const size = (await Deno.stat(file)).size;
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    const { records } = await readEventLog(file);
    const state = foldRun(records, runId);
    times.push(performance.now() - t0);
    if (state.lastSeq !== 100_000) throw new Error("fold lost events");
  }
  times.sort((a, b) => a - b);
  console.log(
    `resume latency (read + verify chain + fold), 100,000 events, ${(size / 1e6).toFixed(1)} MB: ` +
      `median ${(times[2] / 1000).toFixed(3)} s, best ${
        (times[0] / 1000).toFixed(3)
      } s (goal <= 0.300 s)`,
  );
}

async function appendThroughput(): Promise<void> {
  for (const [type, count] of [["ResourceCreated", 2_000], ["Ui", 50_000]] as const) {
    const log = await EventLog.create(newRunId(), tmp, new Masker(["hunter2"]));
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      log.append({
        build: "b",
        step: "s",
        type,
        data: { kind: "file", id: `/tmp/x${i}`, message: "m" },
      });
    }
    const ms = performance.now() - t0;
    log.close();
    const label = type === "Ui" ? "batched (no fsync)" : "durable (fsync each)";
    console.log(
      `append throughput, ${label}: ${
        Math.round(count / (ms / 1000)).toLocaleString("en")
      } events/s (${count} events in ${ms.toFixed(0)} ms)`,
    );
  }
}

async function versusPacker(): Promise<void> {
  const hasNull = await Deno.stat(new URL("../builders/null.ts", import.meta.url)).then(
    () => true,
    () => false,
  );
  const hasShellLocal = await Deno.stat(new URL("../provisioners/shell_local.ts", import.meta.url))
    .then(() => true, () => false);
  const hyperfine = await new Deno.Command("hyperfine", { args: ["--version"] }).output().then(
    (o) => o.success,
    () => false,
  );
  const packer = await new Deno.Command("packer", { args: ["version"] }).output().then(
    (o) => o.success,
    () => false,
  );
  if (!hasNull || !hasShellLocal || !hyperfine || !packer) {
    console.log(
      "kiln vs packer: skipped (needs builders/null.ts, provisioners/shell_local.ts, hyperfine and packer)",
    );
    return;
  }
  const dir = join(tmp, "vs");
  await Deno.mkdir(dir);
  const template = join(dir, "template.json");
  await Deno.writeTextFile(
    template,
    JSON.stringify(
      {
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [{ type: "shell-local", inline: ["echo hello from {{build_name}}"] }],
      },
      null,
      2,
    ),
  );
  const cli = new URL("../cli.ts", import.meta.url).pathname;
  const kiln = `${Deno.execPath()} run -A ${cli} build ${template}`;
  const pk = `packer build ${template}`;
  const json = join(dir, "hyperfine.json");
  const hf = await new Deno.Command("hyperfine", {
    args: ["--warmup", "2", "--runs", "10", "--export-json", json, "-N", kiln, pk],
    cwd: dir,
    env: { KILN_HOME: join(dir, ".kiln"), NO_COLOR: "1", CHECKPOINT_DISABLE: "1" },
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!hf.success) {
    console.log("kiln vs packer: hyperfine failed");
    return;
  }
  const results = JSON.parse(await Deno.readTextFile(json)).results as { mean: number }[];
  const rss = async (cmd: string) => {
    const out = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M", "sh", "-c", `${cmd} >/dev/null`],
      cwd: dir,
      env: { KILN_HOME: join(dir, ".kiln"), NO_COLOR: "1", CHECKPOINT_DISABLE: "1" },
      stderr: "piped",
    }).output().catch(() => undefined);
    const kb = out ? Number(new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)) : NaN;
    return kb;
  };
  const [kRss, pRss] = [await rss(kiln), await rss(pk)];
  console.log(
    `null + shell-local build: kiln ${(results[0].mean * 1000).toFixed(0)} ms, packer ${
      (results[1].mean * 1000).toFixed(0)
    } ms ` +
      `-> wall ratio ${(results[0].mean / results[1].mean).toFixed(2)}x (goal <= 0.8x)` +
      (Number.isFinite(kRss) && Number.isFinite(pRss)
        ? `; peak RSS kiln ${(kRss / 1024).toFixed(0)} MB, packer ${
          (pRss / 1024).toFixed(0)
        } MB -> ${(kRss / pRss).toFixed(2)}x`
        : ""),
  );
}

try {
  await resumeLatency();
  await appendThroughput();
  await versusPacker();
} finally {
  await Deno.remove(tmp, { recursive: true });
}
