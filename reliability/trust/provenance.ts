/**
 * Trust: provenance before deletion, and a ledger that tells the truth.
 * Real `kiln` processes on real files: a failed build, a crash, a signal or
 * `kiln cleanup` may delete only what the run provably made and its
 * template could produce; the user's file at a target, a file swapped in
 * later, a planted symlink, a forged entry are left alone and reported;
 * post-processing is compensated like any step; and after every run
 * `runs show` lists as live exactly what exists.
 */
import { join } from "node:path";
import type { CampaignSize, ScenarioResult } from "../types.ts";
import { Checks, runScenario, sample, type TrialOutcome } from "../support/trials.ts";
import { type FileLab, fileLab } from "../../tests/support/file_lab.ts";
import { filesUnder } from "../../tests/support/ledger_honesty.ts";
import { watchKiln } from "../../tests/support/kiln_process.ts";
import type { KilnCliOutput } from "../../tests/support/kiln_cli.ts";
import { EventLog } from "../../runtime/event_log.ts";
import { Masker } from "../../runtime/masker.ts";
import { identityOf } from "../../runtime/local_identity.ts";
import { runBuild } from "../../runtime/run_build.ts";
import { prepareTemplate } from "../../template/mod.ts";
import { readEventLog } from "../../runtime/log_reader.ts";
import { eventsPath } from "../../runtime/paths.ts";

const PRECIOUS = "PRECIOUS\n";
const NEW = "the run's\n";

async function inLab<T>(
  template: (out: string) => Record<string, unknown>,
  setup: ((out: string) => Promise<void>) | undefined,
  fn: (lab: FileLab) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-trust-provenance-" });
  try {
    return await fn(await fileLab(dir, template, setup));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const plantPrecious = (out: string) => Deno.writeTextFile(join(out, "disk.img"), PRECIOUS);

/** Adds the honest-ledger problems: a run-made file outside the ledger counts as a leak. */
async function honest(c: Checks, lab: FileLab, runId: string, when: string): Promise<void> {
  for (const p of await lab.honesty(runId)) {
    if (p.startsWith("made by the run")) c.leaked++;
    c.expect(false, `${when}: ${p}`);
  }
}

function noStackTrace(c: Checks, outputs: KilnCliOutput[]): void {
  for (const o of outputs) {
    c.expect(!/^\s+at .+:\d+:\d+\)?$/m.test(o.stdout + o.stderr), "a stack trace was printed");
  }
}

async function text(path: string): Promise<string | undefined> {
  return await Deno.readTextFile(path).catch(() => undefined);
}

function runIdIn(output: string): string | undefined {
  return output.match(/\bkiln: run (\d{8}T\d{6}Z-[0-9a-f]+)/)?.[1];
}

// --- pre-existing target + failing build ------------------------------------

interface FailingCase {
  name: string;
  template: (out: string) => Record<string, unknown>;
  flags?: string[];
  env?: Record<string, string>;
  /** Run `kiln cleanup` afterwards. */
  cleanup?: boolean;
  /** The target's content afterwards. */
  expect: string[];
  fast?: boolean;
}

const fileTarget = (out: string, extra: Record<string, unknown> = { content: NEW }) => ({
  type: "file",
  target: join(out, "disk.img"),
  ...extra,
});

const failingCases: FailingCase[] = [
  {
    name: "missing source",
    template: (out) => ({ builders: [fileTarget(out, { source: "does-not-exist.img" })] }),
    expect: [PRECIOUS],
    fast: true,
  },
  {
    name: "missing source, killed at the intent, then cleanup",
    template: (out) => ({ builders: [fileTarget(out, { source: "does-not-exist.img" })] }),
    env: { KILN_CRASH_AFTER: "ResourceIntent" },
    cleanup: true,
    expect: [PRECIOUS],
  },
  {
    name: "provisioner fails",
    template: (out) => ({
      builders: [fileTarget(out)],
      provisioners: [{ type: "shell-local", inline: ["exit 4"] }],
    }),
    expect: [NEW],
  },
  {
    name: "provisioner fails, -on-error=abort, then cleanup",
    template: (out) => ({
      builders: [fileTarget(out)],
      provisioners: [{ type: "shell-local", inline: ["exit 4"] }],
    }),
    flags: ["-on-error=abort"],
    cleanup: true,
    expect: [NEW],
    fast: true,
  },
  {
    name: "post-processor fails",
    template: (out) => ({
      builders: [fileTarget(out)],
      "post-processors": [[
        { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
        { type: "shell-local", inline: ["exit 4"] },
      ]],
    }),
    expect: [NEW],
  },
  {
    name: "post-processor fails, -on-error=abort, then cleanup",
    template: (out) => ({
      builders: [fileTarget(out)],
      "post-processors": [[
        { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
        { type: "shell-local", inline: ["exit 4"] },
      ]],
    }),
    flags: ["-on-error=abort"],
    cleanup: true,
    expect: [NEW],
  },
];

function failingTrial(fc: FailingCase): Promise<TrialOutcome> {
  return inLab(fc.template, plantPrecious, async (lab) => {
    const c = new Checks();
    const outputs: KilnCliOutput[] = [];
    const run = await lab.build(fc.flags, fc.env);
    outputs.push(run);
    c.expect(run.code !== 0, `the build did not fail: ${run.stdout.slice(-300)}`);
    const runId = lab.runIdOf(run);
    if (fc.cleanup) {
      const clean = await lab.kiln(["cleanup", runId]);
      outputs.push(clean);
      c.expect(clean.code === 0, `cleanup exited ${clean.code}: ${clean.stdout.slice(-300)}`);
    }
    const target = join(lab.out, "disk.img");
    const now = await text(target);
    c.expect(now !== undefined, "the user's disk.img was deleted");
    if (now !== undefined) {
      c.expect(fc.expect.includes(now), `disk.img holds ${JSON.stringify(now)}`);
    }
    c.expect(
      !outputs.some((o) => o.stdout.includes(`Deleted ${target}`)),
      "kiln said it deleted disk.img",
    );
    await honest(c, lab, runId, "afterwards");
    noStackTrace(c, outputs);
    return c.outcome();
  });
}

// --- kill -9 at every event boundary -----------------------------------------

function crashTemplate(out: string) {
  return {
    builders: [fileTarget(out)],
    provisioners: [{ type: "shell-local", inline: ["echo provisioned"] }],
    "post-processors": [[
      { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
      { type: "checksum", checksum_types: ["sha256"], output: join(out, "disk.sum") },
    ]],
  };
}

/** How many events a whole run of the crash template writes (the last is RunFinished). */
function eventCount(preexisting: boolean): Promise<number> {
  return inLab(crashTemplate, preexisting ? plantPrecious : undefined, async (lab) => {
    const run = await lab.build();
    if (run.code !== 0) throw new Error(`reference build failed: ${run.stdout}`);
    return (await readEventLog(eventsPath(lab.runIdOf(run), lab.home))).records.length;
  });
}

function crashTrial(seq: number, preexisting: boolean): Promise<TrialOutcome> {
  return inLab(crashTemplate, preexisting ? plantPrecious : undefined, async (lab) => {
    const c = new Checks();
    const killed = await lab.build([], { KILN_CRASH_AT_SEQ: String(seq) });
    c.expect(killed.signal === "SIGKILL", `not killed after event ${seq}`);
    const runId = lab.runIdOf(killed);
    const state = await lab.state(runId);
    const finished = state.builds.file?.status === "succeeded";
    const clean = await lab.kiln(["cleanup", runId]);
    c.expect(clean.code === 0, `cleanup exited ${clean.code}: ${clean.stdout.slice(-300)}`);
    const target = await text(join(lab.out, "disk.img"));
    if (preexisting) {
      c.expect(target === PRECIOUS || target === NEW, `disk.img: ${JSON.stringify(target)}`);
    } else if (!finished) {
      c.expect(target === undefined, "the run's disk.img outlived cleanup");
    }
    const left = [...await filesUnder([lab.out])].filter((p) => !lab.before.has(p));
    if (!finished) {
      c.leaked += left.length;
      c.expect(left.length === 0, `left: ${left.join(", ")}`);
    }
    await honest(c, lab, runId, "after cleanup");
    noStackTrace(c, [killed, clean]);
    return c.outcome();
  });
}

// --- replaced after the run --------------------------------------------------

interface ReplaceCase {
  name: string;
  /** The path replaced, relative to out/. */
  path: string;
  replace(path: string, victim: string): Promise<void>;
  fast?: boolean;
}

const replaceCases: ReplaceCase[] = [
  {
    name: "target replaced by another file",
    path: "disk.img",
    async replace(path) {
      await Deno.remove(path);
      await Deno.writeTextFile(path, "the user's new disk\n");
    },
    fast: true,
  },
  {
    name: "target rewritten in place",
    path: "disk.img",
    replace: (path) => Deno.writeTextFile(path, "the user's edit, longer than before\n"),
  },
  {
    name: "target replaced by a symlink",
    path: "disk.img",
    async replace(path, victim) {
      await Deno.remove(path);
      await Deno.symlink(victim, path);
    },
    fast: true,
  },
  {
    name: "compress output replaced",
    path: "disk.tar.gz",
    async replace(path) {
      await Deno.remove(path);
      await Deno.writeTextFile(path, "another archive\n");
    },
  },
  {
    name: "adopted directory replaced",
    path: "vm",
    async replace(path) {
      await Deno.remove(path, { recursive: true });
      await Deno.mkdir(path);
      await Deno.writeTextFile(join(path, "mine"), "the user's\n");
    },
  },
];

function abortedTemplate(out: string) {
  return {
    builders: [fileTarget(out)],
    provisioners: [{ type: "shell-local", inline: [`mkdir ${out}/vm && echo a > ${out}/vm/a`] }],
    "post-processors": [
      [
        { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
        { type: "shell-local", inline: ["exit 4"] },
      ],
      { type: "artifice", files: [join(out, "vm")] },
    ],
  };
}

function replaceTrial(rc: ReplaceCase): Promise<TrialOutcome> {
  return inLab(abortedTemplate, undefined, async (lab) => {
    const c = new Checks();
    const victim = join(lab.dir, "victim.txt");
    await Deno.writeTextFile(victim, "not kiln's\n");
    const run = await lab.build(["-on-error=abort"]);
    const runId = lab.runIdOf(run);
    const path = join(lab.out, rc.path);
    await rc.replace(path, victim);
    const before = await identityOf(path);
    const clean = await lab.kiln(["cleanup", runId, "--json"]);
    c.expect(clean.code === 0, `cleanup exited ${clean.code}: ${clean.stderr}`);
    let refused: { id: string }[] = [];
    try {
      refused = JSON.parse(clean.stdout).refused;
    } catch {
      c.expect(false, `cleanup --json printed ${clean.stdout.slice(0, 200)}`);
    }
    c.expect(refused.some((r) => r.id === path), `not reported as refused: ${rc.path}`);
    const after = await identityOf(path);
    c.expect(
      after !== undefined && before !== undefined && after.ino === before.ino,
      `${rc.path} was deleted`,
    );
    c.expect(await text(victim) === "not kiln's\n", "the symlink's target was touched");
    const again = await lab.kiln(["cleanup", runId, "--json"]);
    const second = JSON.parse(again.stdout || "{}");
    c.expect(
      second.refused?.length === 0 && second.deleted?.length === 0,
      "a refusal came back on the second cleanup",
    );
    // The rest of the run's files are gone; what it refused is the user's now.
    const left = [...await filesUnder([lab.out])].filter((p) =>
      p !== path && !p.startsWith(`${path}/`)
    );
    c.leaked += left.length;
    c.expect(left.length === 0, `left: ${left.join(", ")}`);
    noStackTrace(c, [run, clean, again]);
    return c.outcome();
  });
}

// --- forged ledger entries ----------------------------------------------------

interface ForgeCase {
  name: string;
  /** Plants the victim; returns the forged record and the check that it survived. */
  forge(lab: FileLab): Promise<{ kind: string; id: string; data: Record<string, unknown> }>;
  survived(lab: FileLab): Promise<boolean>;
  fast?: boolean;
}

const forgeCases: ForgeCase[] = [
  {
    name: "a directory outside the outputs, identity copied",
    async forge(lab) {
      const dir = join(lab.dir, "thesis");
      await Deno.mkdir(dir);
      await Deno.writeTextFile(join(dir, "ch1.tex"), "years\n");
      return {
        kind: "post-processor.output",
        id: dir,
        data: { path: dir, identity: await identityOf(dir), createdByRun: true },
      };
    },
    survived: async (lab) => await text(join(lab.dir, "thesis", "ch1.tex")) === "years\n",
    fast: true,
  },
  {
    name: "the user's file beside the outputs",
    async forge(lab) {
      const path = join(lab.out, "notes.txt");
      await Deno.writeTextFile(path, "mine\n");
      return { kind: "file", id: path, data: { path, identity: await identityOf(path) } };
    },
    survived: async (lab) => await text(join(lab.out, "notes.txt")) === "mine\n",
  },
  {
    name: "an entry naming two paths",
    async forge(lab) {
      const other = join(lab.dir, "other.txt");
      await Deno.writeTextFile(other, "mine\n");
      const id = join(lab.out, "disk.img");
      return { kind: "file", id, data: { path: other, identity: await identityOf(other) } };
    },
    survived: async (lab) => await text(join(lab.dir, "other.txt")) === "mine\n",
    fast: true,
  },
  {
    name: "a relative path",
    async forge(lab) {
      await Deno.writeTextFile(join(lab.dir, "rel.txt"), "mine\n");
      return {
        kind: "file",
        id: "rel.txt",
        data: { path: "rel.txt", identity: await identityOf(join(lab.dir, "rel.txt")) },
      };
    },
    survived: async (lab) => await text(join(lab.dir, "rel.txt")) === "mine\n",
  },
];

function forgeTrial(fc: ForgeCase): Promise<TrialOutcome> {
  return inLab(
    (out) => ({
      builders: [fileTarget(out)],
      provisioners: [{ type: "shell-local", inline: ["exit 4"] }],
    }),
    undefined,
    async (lab) => {
      const c = new Checks();
      const run = await lab.build(["-on-error=abort"]);
      const runId = lab.runIdOf(run);
      const record = await fc.forge(lab);
      const { log } = await EventLog.open(runId, lab.home, new Masker());
      log.append({ build: "file", type: "ResourceCreated", data: record });
      log.close();
      const clean = await lab.kiln(["cleanup", runId, "--json"]);
      let result: { refused?: { id: string; reason: string }[] } = {};
      try {
        result = JSON.parse(clean.stdout);
      } catch {
        c.expect(false, `cleanup --json printed ${clean.stdout.slice(0, 200)} ${clean.stderr}`);
      }
      c.expect(await fc.survived(lab), "the forged entry's target was deleted");
      c.expect(
        (result.refused ?? []).some((r) => r.id === record.id),
        `not reported as refused (${JSON.stringify(result.refused)})`,
      );
      noStackTrace(c, [run, clean]);
      return c.outcome();
    },
  );
}

// --- signals during post-processing -------------------------------------------

interface SignalCase {
  name: string;
  signal: Deno.Signal;
  flags?: string[];
  /** Size of a source file to copy and compress (MiB); else a small content target. */
  bigMiB?: number;
  fast?: boolean;
}

const signalCases: SignalCase[] = [
  { name: "SIGINT, shell-local post-processor sleeping", signal: "SIGINT", fast: true },
  { name: "SIGTERM, shell-local post-processor sleeping", signal: "SIGTERM" },
  {
    name: "SIGINT with -on-error=abort, shell-local sleeping",
    signal: "SIGINT",
    flags: ["-on-error=abort"],
  },
  { name: "SIGINT during a compress of 128 MiB", signal: "SIGINT", bigMiB: 128 },
];

async function randomFile(path: string, mib: number): Promise<void> {
  using file = await Deno.open(path, { write: true, createNew: true });
  const block = new Uint8Array(1 << 20);
  for (let i = 0; i < mib; i++) {
    for (let off = 0; off < block.length; off += 65536) {
      crypto.getRandomValues(block.subarray(off, off + 65536));
    }
    for (let done = 0; done < block.length;) done += await file.write(block.subarray(done));
  }
}

function signalTrial(sc: SignalCase): Promise<TrialOutcome> {
  const template = (out: string) => ({
    builders: [
      sc.bigMiB ? fileTarget(out, { source: join(out, "..", "big.bin") }) : fileTarget(out),
    ],
    "post-processors": [[
      { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
      { type: "checksum", checksum_types: ["sha256"], output: join(out, "disk.sum") },
      { type: "manifest", output: join(out, "manifest.json") },
      { type: "shell-local", inline: ["echo pp-sleeping", "sleep 30"] },
    ]],
  });
  return inLab(template, undefined, async (lab) => {
    const c = new Checks();
    if (sc.bigMiB) await randomFile(join(lab.dir, "big.bin"), sc.bigMiB);
    const kiln = watchKiln(["build", ...(sc.flags ?? []), lab.file], {
      cwd: lab.dir,
      home: lab.home,
    });
    try {
      await kiln.waitFor(sc.bigMiB ? /Tarring .* with gzip/ : /pp-sleeping/);
      if (sc.bigMiB) await new Promise((r) => setTimeout(r, 300));
      kiln.process.kill(sc.signal);
      const status = await kiln.done();
      c.expect(status.code === 130, `exit ${status.code}`);
      const runId = runIdIn(kiln.output());
      if (!runId) return { problems: ["no run id"], leaked: 0, lost: 0 };
      const left = [...await filesUnder([lab.out])];
      c.leaked += left.length;
      c.expect(left.length === 0, `left: ${left.join(", ")}`);
      const state = await lab.state(runId);
      c.expect(state.builds.file?.status === "cancelled", `build ${state.builds.file?.status}`);
      await honest(c, lab, runId, "after the signal");
      return c.outcome();
    } finally {
      try {
        kiln.process.kill("SIGKILL");
      } catch {
        // Exited.
      }
      await kiln.done();
    }
  });
}

// --- failing post-processor and -on-error -----------------------------------------

type PpMode = "cleanup" | "abort, then kiln cleanup" | "ask, retry";

function ppTemplate(flag: string) {
  return (out: string) => ({
    builders: [fileTarget(out)],
    "post-processors": [[
      { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
      {
        type: "shell-local",
        inline: [`echo ran >> ${flag}.count`, `if [ -e ${flag} ]; then rm ${flag}; exit 3; fi`],
      },
    ]],
  });
}

function ppTrial(mode: PpMode): Promise<TrialOutcome> {
  return inLab(ppTemplate("FLAG"), undefined, async (lab) => {
    const c = new Checks();
    // The template names FLAG; point it into the lab.
    const flag = join(lab.dir, "fail");
    await Deno.writeTextFile(
      lab.file,
      (await Deno.readTextFile(lab.file)).replaceAll("FLAG", flag),
    );
    await Deno.writeTextFile(flag, "");
    const disk = join(lab.out, "disk.img");
    const archive = join(lab.out, "disk.tar.gz");
    if (mode === "ask, retry") {
      const prepared = await prepareTemplate(lab.file, {});
      let asked = 0;
      const result = await runBuild(prepared, {
        home: lab.home,
        onError: "ask",
        ask: () => {
          asked++;
          return Promise.resolve("r");
        },
        output: false,
      });
      c.expect(result.status === "succeeded", `build ${result.status}`);
      c.expect(asked === 1, `asked ${asked} times`);
      c.expect(
        await text(`${flag}.count`) === "ran\nran\n",
        "the post-processor ran other than twice",
      );
      c.expect(await identityOf(archive) !== undefined, "the archive is gone after success");
      await honest(c, lab, result.runId, "after success");
      return c.outcome();
    }
    const run = await lab.build(mode === "cleanup" ? [] : ["-on-error=abort"]);
    const runId = lab.runIdOf(run);
    c.expect(run.code === 1, `exit ${run.code}`);
    if (mode === "cleanup") {
      const left = [...await filesUnder([lab.out])];
      c.leaked += left.length;
      c.expect(left.length === 0, `left: ${left.join(", ")}`);
      await honest(c, lab, runId, "after the failure");
      return c.outcome();
    }
    c.expect(
      await identityOf(disk) !== undefined && await identityOf(archive) !== undefined,
      "abort did not leave the outputs",
    );
    await honest(c, lab, runId, "after the abort");
    const clean = await lab.kiln(["cleanup", runId]);
    c.expect(/: 2 deleted, 0 failed/.test(clean.stdout), `cleanup: ${clean.stdout.slice(-200)}`);
    const left = [...await filesUnder([lab.out])];
    c.leaked += left.length;
    c.expect(left.length === 0, `left: ${left.join(", ")}`);
    await honest(c, lab, runId, "after cleanup");
    return c.outcome();
  });
}

// --- runs show after success / failure / cancel / cleanup -------------------------

type Ending =
  | "success"
  | "failure"
  | "cancel"
  | "abort, then cleanup"
  | "two builds share a manifest, one fails";

/** Two builds, one manifest; b fails after writing it. */
function sharedTemplate(out: string) {
  return {
    builders: ["a", "b"].map((name) => ({
      type: "file",
      name,
      content: `${name}\n`,
      target: join(out, `${name}.img`),
    })),
    "post-processors": [[
      { type: "manifest", output: join(out, "manifest.json") },
      { type: "shell-local", only: ["b"], inline: ["exit 2"] },
    ]],
  };
}

function showTemplate(fail: boolean, sleep: boolean) {
  return (out: string) => ({
    builders: [{
      type: "file",
      name: "site",
      content: "<h1>hi</h1>\n",
      target: `${out}/site/index.html`,
    }],
    provisioners: [{ type: "shell-local", inline: [`printf 'about\\n' > ${out}/site/about.txt`] }],
    "post-processors": [[
      { type: "artifice", files: [`${out}/site/*`] },
      { type: "compress", output: `${out}/{{.BuildName}}.tar.gz`, keep_input_artifact: true },
      { type: "checksum", checksum_types: ["sha256"], output: `${out}/{{.BuildName}}.sum` },
      { type: "manifest", output: `${out}/manifest.json` },
      ...(fail ? [{ type: "shell-local", inline: ["exit 6"] }] : []),
      ...(sleep ? [{ type: "shell-local", inline: ["echo pp-sleeping", "sleep 30"] }] : []),
    ]],
  });
}

/** Problems with what `runs show --json` lists as live: each must exist, as recorded. */
async function showProblems(lab: FileLab, runId: string): Promise<string[]> {
  const shown = await lab.kiln(["runs", "show", runId, "--json"]);
  const state = JSON.parse(shown.stdout);
  const problems: string[] = [];
  for (const b of Object.values(state.builds) as { resources: unknown[] }[]) {
    for (
      const e of b.resources as {
        resource: { id: string };
        deletedAt?: string;
        released?: unknown;
      }[]
    ) {
      if (e.deletedAt || e.released) continue;
      if (!await identityOf(e.resource.id)) {
        problems.push(`runs show lists ${e.resource.id} as live`);
      }
    }
  }
  return problems;
}

function showTrial(ending: Ending): Promise<TrialOutcome> {
  const shared = ending === "two builds share a manifest, one fails";
  const template = shared ? sharedTemplate : showTemplate(
    ending === "failure" || ending === "abort, then cleanup",
    ending === "cancel",
  );
  return inLab(template, undefined, async (lab) => {
    const c = new Checks();
    // The provisioner's about.txt is its own side effect until artifice adopts it.
    const check = async (runId: string, when: string) => {
      for (const p of await showProblems(lab, runId)) c.expect(false, `${when}: ${p}`);
      await honest(c, lab, runId, when);
    };
    if (ending === "cancel") {
      const kiln = watchKiln(["build", lab.file], { cwd: lab.dir, home: lab.home });
      try {
        await kiln.waitFor(/pp-sleeping/);
        kiln.process.kill("SIGINT");
        await kiln.done();
      } finally {
        try {
          kiln.process.kill("SIGKILL");
        } catch {
          // Exited.
        }
        await kiln.done();
      }
      const runId = runIdIn(kiln.output());
      if (!runId) return { problems: ["no run id"], leaked: 0, lost: 0 };
      await check(runId, "after the cancel");
      return c.outcome();
    }
    const run = await lab.build(ending === "abort, then cleanup" ? ["-on-error=abort"] : []);
    const runId = lab.runIdOf(run);
    c.expect((run.code === 0) === (ending === "success"), `exit ${run.code}`);
    await check(runId, `after the ${ending === "success" ? "success" : "failure"}`);
    if (shared) {
      const left = [...await filesUnder([lab.out])].map((p) => p.slice(lab.out.length + 1)).sort();
      c.expect(
        left.join(",") === "a.img,manifest.json",
        `a's results should stay, b's go: ${left}`,
      );
    }
    const clean = await lab.kiln(["cleanup", runId]);
    c.expect(clean.code === 0, `cleanup exited ${clean.code}`);
    await check(runId, "after cleanup");
    return c.outcome();
  });
}

/** The provenance rows of the trust group. */
export async function trustRows(size: CampaignSize): Promise<ScenarioResult[]> {
  const full = size === "full";
  const pick = <T extends { fast?: boolean }>(all: T[]) => full ? all : all.filter((x) => x.fast);
  const rows: ScenarioResult[] = [];
  rows.push(
    await runScenario(
      "pre-existing target + failing build → kept",
      pick(failingCases),
      (fc) => fc.name,
      failingTrial,
    ),
  );
  for (const preexisting of [true, false]) {
    const n = await eventCount(preexisting);
    // After the last event (RunFinished) there is nothing left to interrupt.
    const seqs = Array.from({ length: n - 1 }, (_, i) => i + 1);
    rows.push(
      await runScenario(
        preexisting
          ? "kill -9 at every event boundary of a file build with a pre-existing target → cleanup keeps the user's file"
          : "kill -9 at every event boundary of a file build → cleanup leaves nothing of the run, ledger honest",
        full ? seqs : sample(seqs, 4),
        (seq) => `killed after event ${seq}`,
        (seq) => crashTrial(seq, preexisting),
      ),
    );
  }
  rows.push(
    await runScenario(
      "output replaced after the run → cleanup refuses, keeps it, once",
      pick(replaceCases),
      (rc) => rc.name,
      replaceTrial,
    ),
  );
  rows.push(
    await runScenario(
      "ledger entry outside the template's outputs → refused, never deleted",
      pick(forgeCases),
      (fc) => fc.name,
      forgeTrial,
    ),
  );
  rows.push(
    await runScenario(
      "SIGINT/SIGTERM during post-processing → compensated, nothing left",
      pick(signalCases),
      (sc) => sc.name,
      signalTrial,
      { concurrency: 1 },
    ),
  );
  const modes: PpMode[] = full ? ["cleanup", "abort, then kiln cleanup", "ask, retry"] : [
    "cleanup",
    "abort, then kiln cleanup",
  ];
  rows.push(
    await runScenario(
      "failing post-processor → outputs follow -on-error",
      modes,
      (m) => m,
      ppTrial,
    ),
  );
  const shared: Ending = "two builds share a manifest, one fails";
  const endings: Ending[] = full
    ? ["success", "failure", "abort, then cleanup", "cancel", shared, shared, shared]
    : ["success", "cancel", shared];
  rows.push(
    await runScenario(
      "runs show lists exactly what exists after success/failure/cancel/cleanup",
      endings,
      (e) => e,
      showTrial,
    ),
  );
  return rows;
}
