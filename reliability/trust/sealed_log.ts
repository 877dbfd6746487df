/**
 * Trust rows for the log itself (findings 2–6): the log attacked by someone
 * who can write `.kiln/` (edits re-hashed by the public rule, injected
 * records, cuts, another run's log, links, FIFOs), crashes between a record
 * and its seal, state that holds a secret, multi-line and split secrets.
 * Every trial runs real kiln processes on a real file build.
 */
import { join } from "node:path";
import type { CampaignSize, ScenarioResult } from "../types.ts";
import { type KilnExit, runKilnIn } from "../support/kiln_process.ts";
import { Checks, runScenario, type TrialOutcome } from "../support/trials.ts";
import { verifyLog } from "../support/log_check.ts";
import { eventsPath } from "../../runtime/paths.ts";
import { forgeLog, logRecords } from "../../tests/support/forge_log.ts";

interface Bench {
  dir: string;
  home: string;
  tmp: string;
  template: string;
  spawn(
    env?: Record<string, string>,
  ): { cwd: string; home: string; tmp: string; env?: Record<string, string> };
}

async function bench(template: unknown, name = "template.json"): Promise<Bench> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-trust-log-" });
  const tmp = join(dir, "tmp");
  await Deno.mkdir(tmp);
  const file = join(dir, name);
  await Deno.writeTextFile(file, JSON.stringify(template, null, 2));
  const home = join(dir, ".kiln");
  return {
    dir,
    home,
    tmp,
    template: file,
    spawn: (env = {}) => ({ cwd: dir, home, tmp, env }),
  };
}

/** A file build whose shell-local fails after the target exists: the target stays in the ledger. */
function abortedTemplate(): unknown {
  return {
    builders: [{ type: "file", content: "disk image\n", target: "out/disk.img" }],
    provisioners: [{ type: "shell-local", inline: ["echo provisioning", "exit 3"] }],
  };
}

async function abortedRun(): Promise<{ b: Bench; runId: string }> {
  const b = await bench(abortedTemplate());
  const out = await runKilnIn(["build", "-on-error=abort", b.template], b.spawn());
  if (out.code !== 1 || !out.runId) {
    throw new Error(`the aborted build did not fail: ${out.stderr}`);
  }
  return { b, runId: out.runId };
}

const NAMES_LINE = (line: number) => new RegExp(`events\\.jsonl:${line}: `);

function refusedNaming(c: Checks, out: KilnExit, line: number, what: string): void {
  c.expect(out.code === 1, `${what}: exit ${out.code}, expected 1`);
  c.expect(
    NAMES_LINE(line).test(out.stderr),
    `${what} does not name line ${line}: ${out.stderr.trim()}`,
  );
  c.expect(!/^\s+at /m.test(out.stderr), `${what} printed a stack trace`);
}

type Edit = "ui" | "resource-id" | "step-output" | "reorder" | "delete";

/** An edited, re-hashed log: replay names the edited seq; resume and cleanup refuse; nothing deleted. */
async function editTrial(edit: Edit, position: number): Promise<TrialOutcome> {
  const { b, runId } = await abortedRun();
  const c = new Checks();
  try {
    const file = eventsPath(runId, b.home);
    const recs = await logRecords(file);
    const pick = (type: string) => {
      const all = recs.map((r, i) => r.type === type ? i : -1).filter((i) => i >= 0);
      return all[Math.min(position, all.length - 1)];
    };
    let at: number;
    if (edit === "ui") {
      at = pick("Ui");
      recs[at] = { ...recs[at], data: { ...recs[at].data, message: "all is well" } };
    } else if (edit === "resource-id") {
      at = pick("ResourceCreated");
      recs[at] = { ...recs[at], data: { ...recs[at].data, id: b.dir, data: { path: b.dir } } };
    } else if (edit === "step-output") {
      at = pick("StepSucceeded");
      recs[at] = { ...recs[at], data: { output: { path: b.dir } } };
    } else if (edit === "reorder") {
      at = Math.min(3 + position, recs.length - 2);
      [recs[at], recs[at + 1]] = [recs[at + 1], recs[at]];
    } else {
      at = Math.min(2 + position, recs.length - 2);
      recs.splice(at, 1);
    }
    await forgeLog(file, recs);
    refusedNaming(c, await runKilnIn(["replay", runId], b.spawn()), at + 1, "replay");
    refusedNaming(c, await runKilnIn(["cleanup", runId], b.spawn()), at + 1, "cleanup");
    refusedNaming(c, await runKilnIn(["build", "--resume", runId], b.spawn()), at + 1, "resume");
    c.expect(
      (await Deno.readTextFile(join(b.dir, "out", "disk.img")).catch(() => "")) === "disk image\n",
      "a refused cleanup still deleted the target",
    );
    c.expect(
      (await Deno.stat(b.template).catch(() => undefined)) !== undefined,
      "the workspace was touched",
    );
    return c.outcome();
  } finally {
    await Deno.remove(b.dir, { recursive: true });
  }
}

/** An injected ResourceCreated for a directory the run never made: cleanup refuses, the directory stays. */
async function injectTrial(kind: "file" | "post-processor.output"): Promise<TrialOutcome> {
  const { b, runId } = await abortedRun();
  const c = new Checks();
  try {
    const precious = join(b.dir, "precious");
    await Deno.mkdir(precious);
    await Deno.writeTextFile(join(precious, "keep.txt"), "PRECIOUS");
    const file = eventsPath(runId, b.home);
    const recs = await logRecords(file);
    const at = recs.findIndex((r) => r.type === "ResourceCreated") + 1;
    recs.splice(at, 0, {
      ...recs[at - 1],
      data: { kind, id: "out/disk.img", data: { path: precious } },
    });
    await forgeLog(file, recs);
    const out = await runKilnIn(["cleanup", runId], b.spawn());
    refusedNaming(c, out, at + 1, "cleanup");
    c.expect(
      await Deno.readTextFile(join(precious, "keep.txt")).catch(() => "") === "PRECIOUS",
      "cleanup deleted a directory the run never made",
    );
    return c.outcome();
  } finally {
    await Deno.remove(b.dir, { recursive: true });
  }
}

/** The log cut at a line boundary (as a rollback to an older copy would): caught below the seal. */
async function cutTrial(fraction: number): Promise<TrialOutcome> {
  const { b, runId } = await abortedRun();
  const c = new Checks();
  try {
    const file = eventsPath(runId, b.home);
    const lines = (await Deno.readTextFile(file)).trimEnd().split("\n");
    const keep = Math.floor(lines.length * fraction);
    await Deno.writeTextFile(file, lines.slice(0, keep).map((l) => l + "\n").join(""));
    for (const args of [["replay", runId], ["cleanup", runId], ["build", "--resume", runId]]) {
      const out = await runKilnIn(args, b.spawn());
      refusedNaming(c, out, keep + 1, args[0]);
      c.expect(/the log is cut/.test(out.stderr), `${args[0]}: not reported as cut`);
    }
    return c.outcome();
  } finally {
    await Deno.remove(b.dir, { recursive: true });
  }
}

type Swap = "foreign-log" | "symlink" | "fifo" | "seal-id";

/** Another run's log, a link or a FIFO in place of events.jsonl, a swapped seal id: refused, never hung. */
async function swapTrial(swap: Swap): Promise<TrialOutcome> {
  const a = await abortedRun();
  const { b, runId } = await abortedRun();
  const c = new Checks();
  try {
    const file = eventsPath(runId, b.home);
    const other = eventsPath(a.runId, a.b.home);
    const before = await Deno.readTextFile(other);
    await Deno.remove(file);
    if (swap === "foreign-log") await Deno.copyFile(other, file);
    if (swap === "symlink") await Deno.symlink(other, file);
    if (swap === "fifo") await new Deno.Command("mkfifo", { args: [file] }).output();
    if (swap === "seal-id") {
      await Deno.copyFile(other, file);
      await Deno.copyFile(
        join(a.b.home, "runs", a.runId, "seal.id"),
        join(b.home, "runs", runId, "seal.id"),
      );
    }
    const list = await runKilnIn(["runs"], b.spawn());
    c.expect(list.code === 0, `kiln runs exit ${list.code}`);
    c.expect(
      new RegExp(`^${runId}\\s+corrupt\\s`, "m").test(list.stdout),
      `runs: ${list.stdout.trim()}`,
    );
    for (const args of [["replay", runId], ["cleanup", runId], ["build", "--resume", runId]]) {
      const out = await runKilnIn(args, b.spawn());
      c.expect(out.code === 1, `${args[0]}: exit ${out.code}`);
      c.expect(/events\.jsonl|has no seal/.test(out.stderr), `${args[0]}: ${out.stderr.trim()}`);
    }
    c.expect(await Deno.readTextFile(other) === before, "the other run's log was written");
    const otherLog = await verifyLog(a.b.home, a.runId);
    c.expect(otherLog.ok, `the other run's log: ${otherLog.ok ? "" : otherLog.problem}`);
    return c.outcome();
  } finally {
    await Deno.remove(b.dir, { recursive: true });
    await Deno.remove(a.b.dir, { recursive: true });
  }
}

/** Killed between a durable record and its seal: resume finishes, nothing twice; cleanup leaves nothing. */
async function unsealedTrial(
  item: { seq: number; recovery: "resume" | "cleanup" },
): Promise<TrialOutcome> {
  const b = await bench({
    builders: [{ type: "file", content: "disk image\n", target: "out/disk.img" }],
    provisioners: [
      { type: "shell-local", inline: ["echo p0 >> counter"] },
      { type: "shell-local", inline: ["echo p1 >> counter"] },
    ],
    "post-processors": [{ type: "checksum", checksum_types: ["sha256"], output: "out/sums" }],
  });
  const c = new Checks();
  try {
    const killed = await runKilnIn(
      ["build", b.template],
      b.spawn({ KILN_CRASH_BEFORE_SEAL: String(item.seq) }),
    );
    if (killed.signal !== "SIGKILL" || !killed.runId) return c.outcome(); // the build has fewer events
    // What the killed process had finished decides what recovery must do.
    const before = await verifyLog(b.home, killed.runId);
    const runDone = before.ok && !before.state.unfinished;
    const buildDone = before.ok && before.state.builds.file?.status === "succeeded";
    const args = item.recovery === "resume"
      ? ["build", "--resume", killed.runId]
      : ["cleanup", killed.runId];
    const out = await runKilnIn(args, b.spawn());
    if (item.recovery === "resume" && runDone) {
      c.expect(/already succeeded/.test(out.stderr), `resume of a finished run: ${out.stderr}`);
    } else c.expect(out.code === 0, `${item.recovery} exit ${out.code}: ${out.stderr.trim()}`);
    const counter = (await Deno.readTextFile(join(b.dir, "counter")).catch(() => "")).trim().split(
      "\n",
    )
      .filter(Boolean);
    c.expect(new Set(counter).size === counter.length, `a provisioner ran twice: ${counter}`);
    const left = await Array.fromAsync(Deno.readDir(join(b.dir, "out"))).catch(() => []);
    if (item.recovery === "resume" || buildDone) {
      // Finished (now, or before the kill: results of a successful build are kept).
      c.expect(counter.length === 2, `provisioners run: ${counter}`);
      c.expect(left.length === 2, `outputs: ${left.map((e) => e.name)}`);
    } else {
      c.expect(left.length === 0, `cleanup left ${left.map((e) => e.name)}`);
    }
    const log = await verifyLog(b.home, killed.runId);
    c.expect(log.ok, `log: ${log.ok ? "" : log.problem}`);
    return c.outcome();
  } finally {
    await Deno.remove(b.dir, { recursive: true });
  }
}

const SECRET_LINES = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
  "QyNTUxOQAAACBx3rDNcs6Z2WqXKk1ZdA0p6Q2s8hVJpQhS9tXG0aF3cQAAAJjxk3Qm8ZN0",
  "-----END OPENSSH PRIVATE KEY-----",
];

/** Every byte kiln wrote or printed, minus the run's own 0600 secrets. */
async function everything(b: Bench, outputs: KilnExit[]): Promise<string> {
  let text = outputs.map((o) => o.stdout + o.stderr).join("\n");
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory && e.name !== "secrets") await walk(path);
      else if (e.isFile) text += await Deno.readTextFile(path);
    }
  };
  await walk(b.home);
  return text;
}

/** A multi-line secret printed by a provisioner: no line of it in the log or the output. */
async function multiLineTrial(how: "echo" | "long-line"): Promise<TrialOutcome> {
  const b = await bench({
    variables: { key: "" },
    "sensitive-variables": ["key"],
    builders: [{ type: "file", content: "x", target: "out/x" }],
    provisioners: [{
      type: "shell-local",
      environment_vars: ["KEY={{user `key`}}"],
      inline: how === "echo"
        ? ['printf "%s\\n" "$KEY"', 'printf "%s\\n" "$KEY" | sed -n 2p']
        // A line longer than kiln holds whole: the cut must not fall inside the secret.
        : ['yes a | head -n 65530 | tr -d "\\n"; printf "%s\\n" "$KEY" | sed -n 2p'],
    }],
  });
  const c = new Checks();
  try {
    await Deno.writeTextFile(
      join(b.dir, "vars.json"),
      JSON.stringify({ key: SECRET_LINES.join("\n") }),
    );
    const out = await runKilnIn(["build", "-var-file=vars.json", b.template], b.spawn());
    c.expect(out.code === 0, `build exit ${out.code}: ${out.stderr.trim()}`);
    const text = await everything(b, [out]);
    for (const line of SECRET_LINES.slice(1, 3)) {
      for (const piece of [line, line.slice(0, 24), line.slice(-24)]) {
        c.expect(!text.includes(piece), `"${piece.slice(0, 12)}…" leaked`);
      }
    }
    c.expect(
      text.includes("<sensitive>"),
      "nothing was masked: the secret never reached the output",
    );
    return c.outcome();
  } finally {
    await Deno.remove(b.dir, { recursive: true });
  }
}

/** A secret inside state (finding 2): the build succeeds as Packer's does, cleanup deletes the real files. */
async function stateSecretTrial(recovery: "success" | "cleanup"): Promise<TrialOutcome> {
  const b = await bench({
    variables: { password: "vagrant" },
    "sensitive-variables": ["password"],
    builders: [{ type: "file", content: "box", target: "out/vagrant-box.txt" }],
    "post-processors": [{ type: "compress", output: "out/vagrant-box.tar.gz" }],
  });
  const c = new Checks();
  try {
    const env: Record<string, string> = recovery === "cleanup"
      ? { KILN_CRASH_AFTER: "ArtifactProduced" }
      : {};
    const out = await runKilnIn(["build", b.template], b.spawn(env));
    const outputs = [out];
    if (recovery === "success") {
      c.expect(out.code === 0, `build exit ${out.code}: ${out.stderr.trim()}`);
      c.expect(
        (await Deno.stat(join(b.dir, "out", "vagrant-box.tar.gz")).catch(() => undefined)) !==
          undefined,
        "the compressed box is missing",
      );
    } else {
      const cleaned = await runKilnIn(["cleanup", out.runId!], b.spawn());
      outputs.push(cleaned);
      c.expect(cleaned.code === 0, `cleanup exit ${cleaned.code}: ${cleaned.stderr.trim()}`);
      const left = await Array.fromAsync(Deno.readDir(join(b.dir, "out"))).catch(() => []);
      c.expect(left.length === 0, `cleanup left ${left.map((e) => e.name)}`);
    }
    const text = await everything(b, outputs);
    c.expect(!text.includes("vagrant"), "the secret is in the log or the output");
    return c.outcome();
  } finally {
    await Deno.remove(b.dir, { recursive: true });
  }
}

/** The trust rows of the sealed log. */
export async function trustRows(size: CampaignSize): Promise<ScenarioResult[]> {
  const full = size === "full";
  const edits: [Edit, number][] =
    (["ui", "resource-id", "step-output", "reorder", "delete"] as Edit[])
      .flatMap((e) => (full ? [0, 1, 2] : [0]).map((p) => [e, p] as [Edit, number]));
  const sealPoints = full ? Array.from({ length: 40 }, (_, i) => i + 1) : [2, 9, 17];
  return [
    await runScenario(
      "edited and re-hashed log → replay names the edited seq, resume and cleanup refuse, nothing deleted",
      edits,
      ([e, p]) => `${e} #${p}`,
      ([e, p]) => editTrial(e, p),
    ),
    await runScenario(
      "injected ResourceCreated for a directory → cleanup refuses, the directory survives",
      full
        ? ["file", "post-processor.output", "file", "post-processor.output"] as const
        : ["file"] as const,
      (k) => k,
      injectTrial,
    ),
    await runScenario(
      "log cut at a line boundary (or rolled back) → caught below the seal by replay, resume, cleanup",
      full ? [0, 0.25, 0.5, 0.75, 0.9, 0.99] : [0.5],
      (f) => `cut at ${f}`,
      cutTrial,
    ),
    await runScenario(
      "another run's log, a symlink, a FIFO or a foreign seal id → refused; `kiln runs` never hangs",
      ["foreign-log", "symlink", "fifo", "seal-id"] as Swap[],
      (s) => s,
      swapTrial,
    ),
    await runScenario(
      "kill -9 between a durable record and its seal → resume finishes with nothing run twice; cleanup leaves nothing",
      sealPoints.flatMap((seq) =>
        (["resume", "cleanup"] as const).map((recovery) => ({ seq, recovery }))
      ),
      (i) => `${i.recovery} after event ${i.seq}`,
      unsealedTrial,
    ),
    await runScenario(
      "a sensitive value inside a path (state) → build succeeds, cleanup deletes the real files, never in clear",
      ["success", "cleanup"] as const,
      (r) => r,
      stateSecretTrial,
    ),
    await runScenario(
      "a multi-line secret printed line by line, or across a cut of a 64 KiB line → masked everywhere",
      ["echo", "long-line"] as const,
      (h) => h,
      multiLineTrial,
    ),
  ];
}
