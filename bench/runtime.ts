/**
 * Runtime benchmarks (`deno task bench`):
 *  1. resume latency: open a sealed 100,000- and 1,000,000-event log the way `--resume` does
 *     (newest sealed snapshot + verified tail; goals <= 0.1 s and <= 0.3 s), next to a full
 *     verified fold of the same log (what replay and cleanup read);
 *  2. event append throughput, with fsync + seal (durable events) and batched (the rest);
 *  3. null + shell-local build, kiln vs `packer build` (hyperfine; wall time and peak RSS).
 */
import { join } from "node:path";
import { EventLog } from "../runtime/event_log.ts";
import { applyEvent, emptyRunState } from "../runtime/fold.ts";
import { Masker } from "../runtime/masker.ts";
import { newRunId } from "../runtime/run_id.ts";
import { readRun } from "../runtime/run_reader.ts";

const generating = Deno.args[0] === "--generate";
const tmp = generating ? Deno.args[2] : await Deno.makeTempDir({ prefix: "kiln-bench-" });
Deno.env.set("KILN_SEAL_DIR", join(tmp, "seals"));

/**
 * A realistic mix written by the real writer (masking, MACs, seals and the
 * snapshots a running build leaves): steps, resources, provisioners and
 * lots of output lines, 4 builds, the run still unfinished.
 */
async function sealedLog(count: number): Promise<string> {
  const runId = newRunId();
  const log = await EventLog.create(runId, tmp, new Masker(["hunter2"]));
  const state = emptyRunState(runId);
  log.subscribeState((r) => applyEvent(state, r));
  log.trackState(() => state);
  log.append({
    type: "RunStarted",
    data: {
      template: "t.json",
      templateDigest: "d",
      inputsDigest: "i",
      builds: ["b0", "b1", "b2", "b3"],
    },
  });
  for (let i = 0; log.seq < count; i++) {
    const build = `b${i % 4}`;
    const step = `step.${i % 50}`;
    const r = i % 10;
    if (r === 0) log.append({ build, step, type: "StepStarted", data: {} });
    else if (r === 1) {
      log.append({ build, step, type: "ResourceIntent", data: { kind: "file", token: `t${i}` } });
    } else if (r === 2) {
      log.append({
        build,
        step,
        type: "ResourceCreated",
        data: { kind: "file", id: `/tmp/r${i}` },
      });
    } else if (r === 3) {
      log.append({
        build,
        step,
        type: "StepSucceeded",
        data: { output: { path: `/tmp/r${i}`, n: i } },
      });
    } else if (r === 4) {
      log.append({ build, step, type: "ProvisionerSucceeded", data: { index: i } });
    } else {
      log.append({
        build,
        step,
        type: "Ui",
        data: { level: "message", message: `line ${i} of provisioner output`, prefix: build },
      });
    }
  }
  log.close();
  return runId;
}

/**
 * Writes the log in a child process under eatmydata (when Debian's is
 * installed): the 400,000 fsyncs of a million-event log would otherwise
 * take most of the benchmark, and the bytes written are the same.
 */
async function generate(count: number): Promise<string> {
  const eat = await new Deno.Command("eatmydata", { args: ["true"] }).output().then(
    (o) => o.success,
    () => false,
  );
  const argv = [Deno.execPath(), "run", "-A", new URL(import.meta.url).pathname];
  const out = await new Deno.Command(eat ? "eatmydata" : argv[0], {
    args: [...(eat ? argv : argv.slice(1)), "--generate", String(count), tmp],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("could not write the benchmark log");
  return new TextDecoder().decode(out.stdout).trim();
}

async function resumeLatency(): Promise<void> {
  for (const [count, goal] of [[100_000, 0.1], [1_000_000, 0.3]] as const) {
    const t0 = performance.now();
    const runId = await generate(count);
    const made = (performance.now() - t0) / 1000;
    const size = (await Deno.stat(join(tmp, "runs", runId, "events.jsonl"))).size;
    const time = (full: boolean) => {
      const times: number[] = [];
      for (let k = 0; k < 5; k++) {
        const t = performance.now();
        const read = readRun(runId, tmp, { full });
        times.push(performance.now() - t);
        if (read.last.seq !== count) throw new Error("the fold lost events");
      }
      return times.sort((a, b) => a - b)[2] / 1000;
    };
    // What `--resume` does before it drives: open the log for appending (seal,
    // snapshot, verified tail, secret table).
    const opens: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      const { log, contents } = await EventLog.open(runId, tmp, new Masker(["hunter2"]));
      opens.push(performance.now() - t);
      log.close();
      if (contents.last.seq !== count) throw new Error("open lost events");
    }
    const open = opens.sort((a, b) => a - b)[2] / 1000;
    const tail = time(false);
    const full = time(true);
    console.log(
      `resume, ${count.toLocaleString("en")} events (${(size / 1e6).toFixed(0)} MB, written in ` +
        `${made.toFixed(1)} s): open for resume ${open.toFixed(3)} s (goal <= ${
          goal.toFixed(3)
        } s), ` +
        `snapshot + tail read ${tail.toFixed(3)} s, full verified fold ${full.toFixed(3)} s ` +
        `-> ${(full / open).toFixed(0)}x faster than reading it all`,
    );
  }
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
    const label = type === "Ui" ? "batched (no fsync)" : "durable (fsync + seal each)";
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

if (generating) {
  console.log(await sealedLog(Number(Deno.args[1])));
  Deno.exit(0);
}

try {
  await resumeLatency();
  await appendThroughput();
  await versusPacker();
} finally {
  await Deno.remove(tmp, { recursive: true });
}
