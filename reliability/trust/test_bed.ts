/**
 * The test bed must not hide failures:
 *
 * - Emulated EC2 instances each have a /tmp of their own. When they shared
 *   the host's, two amazon-instance builds started in the same second bundled
 *   under the same `image-{{timestamp}}` prefix, and one AMI silently held the
 *   other build's files (or a build failed when the other deleted its parts).
 * - Test sshds no longer pay root's pyenv `.bashrc` for every command. With a
 *   fast login shell, a command's exit status can arrive together with its
 *   channel, and kiln reported such a command as "disconnected" (exit -1):
 *   the slow `.bashrc` had hidden that from every test.
 */
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { CampaignSize, ScenarioResult } from "../types.ts";
import { type KilnExit, runKilnIn } from "../support/kiln_process.ts";
import { type Lab, openLab } from "../support/labs.ts";
import { verifyLog } from "../support/log_check.ts";
import { checkAftermath } from "../support/aftermath.ts";
import { Checks, runScenario, type TrialOutcome } from "../support/trials.ts";
import { openSsh } from "../../communicators/ssh.ts";

function gist(out: KilnExit): string {
  const lines = (out.stdout + out.stderr).trim().split("\n");
  const errors = lines.filter((l) => /^--> |errored|[Ee]rror:/.test(l.trim()));
  return (errors.length > 0 ? errors : lines.slice(-3)).join(" | ").slice(0, 400);
}

/** The bundle the lab's build uploaded: its prefix and its tar as text (one part is plenty). */
function bundle(lab: Lab): { prefix: string; tar: string } | undefined {
  const ws = lab.aws!;
  const part = ws.emulator.ledger().s3Objects.find((o) => /\.part\.\d+$/.test(o));
  if (!part) return undefined;
  const [bucket, ...key] = part.split("/");
  const body = ws.emulator.s3.store.get(bucket, key.join("/"))!.body;
  return {
    prefix: key.join("/").replace(/\.part\.\d+$/, ""),
    tar: new TextDecoder("latin1").decode(gunzipSync(body)),
  };
}

/** A mark of whose bundle it is: each emulator's instance root is a directory of its own. */
const MARK_BUILD = {
  type: "shell",
  inline: ['echo "built-by:$KILN_INSTANCE_ROOT" > "$KILN_INSTANCE_ROOT/etc/built-by"'],
};

function nextSecond(): Promise<void> {
  return new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
}

/**
 * Two builds, each on its own emulator, started at the top of one second.
 * Undefined when they still straddled a second (a busy machine): the caller
 * tries again, as such a pair proves nothing.
 */
async function sameSecondPair(): Promise<TrialOutcome | undefined> {
  const labs = await Promise.all([0, 1].map(() => openLab("aws", { provisioners: [MARK_BUILD] })));
  const c = new Checks();
  try {
    await nextSecond();
    const outs = await Promise.all(
      labs.map((lab) => runKilnIn(["build", ...lab.buildArgs], lab.spawn())),
    );
    const bundles = labs.map(bundle);
    if (outs.every((o) => o.code === 0) && bundles[0]?.prefix !== bundles[1]?.prefix) {
      return undefined;
    }
    for (const [n, lab] of labs.entries()) {
      const out = outs[n];
      c.expect(out.code === 0, `build ${n} exited ${out.code}: ${gist(out)}`);
      const own = `built-by:${lab.aws!.emulator.instances()[0]?.rootDir}`;
      const other = `built-by:${labs[1 - n].aws!.emulator.instances()[0]?.rootDir}`;
      const tar = bundles[n]?.tar ?? "";
      c.expect(tar.includes(own), `build ${n}'s AMI does not hold its own instance's files`);
      c.expect(!tar.includes(other), `build ${n}'s AMI holds the other build's files`);
      if (!out.runId) {
        c.expect(false, `build ${n}: no run id`);
        continue;
      }
      const log = await verifyLog(lab.home, out.runId);
      c.expect(log.ok, `build ${n}: log does not verify: ${log.ok ? "" : log.problem}`);
      await checkAftermath(c, lab, out.runId, log.ok ? log.state : undefined, [out]);
    }
    return c.outcome();
  } finally {
    const dirs = labs.map((lab) => lab.aws!.emulator.emulator.dir);
    await Promise.all(labs.map((lab) => lab.close()));
    for (const dir of dirs) {
      const left = await Deno.stat(dir).then(() => true, () => false);
      if (left) c.expect(false, `emulator directory ${dir} left behind`);
    }
  }
}

async function sameSecondTrial(): Promise<TrialOutcome> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const outcome = await sameSecondPair();
    if (outcome) return outcome;
  }
  return {
    problems: ["three pairs in a row did not start in the same second"],
    leaked: 0,
    lost: 0,
  };
}

/**
 * Quick commands only: each shell provisioner uploads, chmods, runs and
 * removes its script. Before the fix about one in twenty such commands lost
 * its exit status, so twenty of them make a build fail more often than not.
 */
const QUICK_PROVISIONERS = [
  ...Array.from({ length: 19 }, (_, n) => ({ type: "shell", inline: [`echo quick-${n}`] })),
  { type: "shell", inline: ["exit 3"], valid_exit_codes: [3] },
];

async function quickCommandsTrial(): Promise<TrialOutcome> {
  const lab = await openLab("null-ssh", { provisioners: QUICK_PROVISIONERS });
  const c = new Checks();
  try {
    const out = await runKilnIn(["build", ...lab.buildArgs], lab.spawn());
    c.expect(out.code === 0, `build exited ${out.code}: ${gist(out)}`);
    c.expect(!/disconnected/i.test(out.stdout + out.stderr), "a quick command was 'disconnected'");
    if (!out.runId) return { ...c.outcome(), problems: [...c.problems, "no run id"] };
    const log = await verifyLog(lab.home, out.runId);
    c.expect(log.ok, `log does not verify: ${log.ok ? "" : log.problem}`);
    await checkAftermath(c, lab, out.runId, log.ok ? log.state : undefined, [out]);
    return c.outcome();
  } finally {
    await lab.close();
  }
}

/**
 * Through kiln's own SSH communicator, commands that end at once (`exit 7`,
 * `true`) while kiln is busy (its event loop blocked 100 ms, as by parallel
 * builds): the exit status then arrives in the same read as the channel
 * itself. Before the fix about a third of them came back as exit -1, "the
 * connection dropped"; root's slow `.bashrc` used to hide that.
 */
/** Blocks the event loop, as a client busy elsewhere does. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spinning */ }
}

async function instantCommandsTrial(): Promise<TrialOutcome> {
  const lab = await openLab("null-ssh", { uploadMiB: 0 });
  const c = new Checks();
  try {
    const comm = await openSsh({
      config: {
        ssh_username: lab.sshd!.user,
        ssh_private_key_file: join(lab.dir, "client"),
        ssh_timeout: 10_000,
      },
      target: { host: lab.sshd!.host, port: lab.sshd!.port },
      signal: new AbortController().signal,
    });
    try {
      const wrong: string[] = [];
      for (let n = 0; n < 20; n++) {
        for (const [command, expected] of [["exit 7", 7], ["true", 0]] as const) {
          const running = comm.start({ command });
          setTimeout(() => busy(100), 0);
          const { exitStatus } = await running;
          if (exitStatus !== expected) wrong.push(`${command} → ${exitStatus}`);
        }
      }
      c.expect(wrong.length === 0, `${wrong.length} of 40 statuses wrong: ${wrong.slice(0, 3)}`);
    } finally {
      await comm.close();
    }
    return c.outcome();
  } finally {
    await lab.close();
  }
}

/** The test bed's rows. */
export async function trustRows(size: CampaignSize): Promise<ScenarioResult[]> {
  const full = size === "full";
  return [
    await runScenario(
      "two amazon-instance builds started in the same second → each AMI holds its own bundle",
      Array.from({ length: full ? 5 : 1 }, (_, n) => n + 1),
      (n) => `pair ${n}`,
      () => sameSecondTrial(),
      // Each trial is already two builds at once.
      { concurrency: 1 },
    ),
    await runScenario(
      "SSH: a command that ends at once while kiln is busy reports its exit status, not a drop",
      Array.from({ length: full ? 5 : 1 }, (_, n) => n + 1),
      (n) => `40 commands, round ${n}`,
      () => instantCommandsTrial(),
    ),
    await runScenario(
      "null over SSH, a login shell that starts at once: 20 quick shell provisioners → success",
      Array.from({ length: full ? 10 : 1 }, (_, n) => n + 1),
      (n) => `build ${n}`,
      () => quickCommandsTrial(),
    ),
  ];
}
