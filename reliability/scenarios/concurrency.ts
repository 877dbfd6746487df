/**
 * Concurrency scenarios: two `kiln build --resume` of the same interrupted
 * run started together (exactly one proceeds; the other is refused because
 * the run is locked), and 8 builds at once — 8 processes sharing one
 * KILN_HOME, and one run of 8 parallel builds — whose logs all verify and
 * agree with what happened.
 */
import { join } from "node:path";
import type { CampaignSize, Scenario, ScenarioResult } from "../types.ts";
import { openLab } from "../support/labs.ts";
import { type KilnExit, runKilnIn } from "../support/kiln_process.ts";
import { verifyLog } from "../support/log_check.ts";
import { checkAftermath } from "../support/aftermath.ts";
import { Checks, runScenario, type TrialOutcome } from "../support/trials.ts";

const LOCKED = /is being driven by another kiln process/;

/** Kill a build mid-provisioning, then start two resumes of it at the same moment. */
async function twoResumes(): Promise<TrialOutcome> {
  const lab = await openLab("null-ssh", { longCommandSeconds: 2 });
  const c = new Checks();
  try {
    const killed = await runKilnIn(
      ["build", ...lab.buildArgs],
      lab.spawn({ KILN_CRASH_AFTER: "ProvisionerSucceeded" }),
    );
    c.expect(killed.signal === "SIGKILL", `not killed: exit ${killed.code}`);
    const runId = killed.runId!;
    const [a, b] = await Promise.all([
      runKilnIn(["build", "--resume", runId], lab.spawn()),
      runKilnIn(["build", "--resume", runId], lab.spawn()),
    ]);
    const ok = [a, b].filter((r) => r.code === 0);
    const refused = [a, b].filter((r) => r.code !== 0);
    c.expect(ok.length === 1, `${ok.length} resumes proceeded`);
    c.expect(
      refused.length === 1 && LOCKED.test(refused[0].stderr),
      `the other was not refused as locked: ${refused.map((r) => r.stderr.trim()).join(" / ")}`,
    );
    const log = await verifyLog(lab.home, runId);
    c.expect(log.ok, `log: ${log.ok ? "" : log.problem}`);
    if (log.ok) {
      const resumes = log.records.filter((r) => r.type === "RunResumed").length;
      c.expect(resumes === 1, `${resumes} RunResumed records`);
      c.expect(log.state.status === "succeeded", `run ${log.state.status}`);
    }
    const counter = await lab.counter();
    c.expect(
      JSON.stringify(counter) === JSON.stringify(["p0", "p2"]),
      `provisioner runs: ${counter}`,
    );
    await checkAftermath(c, lab, runId, log.ok ? log.state : undefined, [killed, a, b], {
      "ssh private key": await Deno.readTextFile(join(lab.dir, "client")),
    });
    return c.outcome();
  } finally {
    await lab.close();
  }
}

/** 8 kiln processes in one KILN_HOME at once, each its own file build. */
async function eightProcesses(): Promise<TrialOutcome> {
  const lab = await openLab("file");
  const c = new Checks();
  try {
    const outs: KilnExit[] = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        runKilnIn(
          ["build", "-var", `out=${join(lab.dir, `out-${n}`)}`, ...lab.buildArgs],
          lab.spawn(),
        )),
    );
    const ids = new Set(outs.map((o) => o.runId));
    c.expect(ids.size === 8, `${ids.size} distinct run ids`);
    outs.forEach((o, n) => c.expect(o.code === 0, `process ${n} exited ${o.code}: ${o.stderr}`));
    for (const o of outs) {
      if (!o.runId) continue;
      const log = await verifyLog(lab.home, o.runId);
      c.expect(log.ok, `${o.runId}: ${log.ok ? "" : log.problem}`);
      if (log.ok) c.expect(log.state.status === "succeeded", `${o.runId} ${log.state.status}`);
    }
    const counter = await lab.counter();
    c.expect(counter.length === 16, `${counter.length} provisioner runs, expected 16`);
    const runs = await runKilnIn(["runs", "--json"], lab.spawn());
    const listed = JSON.parse(runs.stdout) as { status: string }[];
    c.expect(
      listed.length === 8 && listed.every((r) => r.status === "succeeded"),
      `kiln runs: ${listed.map((r) => r.status)}`,
    );
    for (const o of outs) {
      if (o.runId) await checkAftermath(c, lab, o.runId, undefined, [o]);
    }
    return c.outcome();
  } finally {
    await lab.close();
  }
}

/** One run of 8 builds in parallel, each running shell-local provisioners. */
async function eightBuilds(): Promise<TrialOutcome> {
  const lab = await openLab("file");
  const c = new Checks();
  try {
    const counter = join(lab.dir, "counter");
    const template = {
      builders: Array.from({ length: 8 }, (_, n) => ({
        type: "null",
        name: `b${n}`,
        communicator: "none",
      })),
      provisioners: [0, 1, 2].map((i) => ({
        type: "shell-local",
        inline: [`echo "{{build_name}} p${i}" >> ${counter}`, "echo working"],
      })),
    };
    const file = join(lab.dir, "eight.json");
    await Deno.writeTextFile(file, JSON.stringify(template));
    const out = await runKilnIn(["build", file], lab.spawn());
    c.expect(out.code === 0, `exit ${out.code}: ${out.stderr}`);
    const log = await verifyLog(lab.home, out.runId!);
    c.expect(log.ok, `log: ${log.ok ? "" : log.problem}`);
    if (log.ok) {
      const builds = Object.values(log.state.builds);
      c.expect(builds.length === 8, `${builds.length} builds in the log`);
      for (const b of builds) {
        c.expect(b.status === "succeeded", `${b.name} ${b.status}`);
        const done = [...b.provisionersDone].sort().join(",");
        c.expect(done === "0,1,2", `${b.name} provisioners done: ${done}`);
      }
      c.expect(
        log.records.every((r, i) => r.seq === i + 1),
        "seq is not 1..n without gaps",
      );
    }
    const lines = (await lab.counter()).sort();
    c.expect(
      lines.length === 24 && new Set(lines).size === 24,
      `${lines.length} provisioner runs (${new Set(lines).size} distinct), expected 24`,
    );
    await checkAftermath(c, lab, out.runId!, log.ok ? log.state : undefined, [out]);
    return c.outcome();
  } finally {
    await lab.close();
  }
}

/** The concurrency group. */
export const concurrency: Scenario = {
  group: "concurrency",
  async run(size: CampaignSize) {
    const n = size === "full" ? 20 : 3;
    const rows: ScenarioResult[] = [];
    rows.push(
      await runScenario(
        "two --resume of one run at once → one proceeds, the other is refused (locked)",
        Array.from({ length: n }, (_, i) => i + 1),
        (i) => `trial ${i}`,
        () => twoResumes(),
      ),
    );
    rows.push(
      await runScenario(
        "8 kiln processes at once in one KILN_HOME → every log verifies",
        Array.from({ length: size === "full" ? 3 : 1 }, (_, i) => i + 1),
        (i) => `trial ${i}`,
        () => eightProcesses(),
        { concurrency: 1 },
      ),
    );
    rows.push(
      await runScenario(
        "one run of 8 parallel builds → the log verifies and agrees",
        Array.from({ length: size === "full" ? 3 : 1 }, (_, i) => i + 1),
        (i) => `trial ${i}`,
        () => eightBuilds(),
      ),
    );
    return rows;
  },
};
