/**
 * Someone with write access to the bucket but without the team key edits
 * an interrupted run's objects. A fresh runner's `replay`, `runs show`,
 * `build --resume` and `cleanup` must refuse with a clear message (exit
 * non-zero, no stack trace) and do nothing: the run's next provisioner — a
 * marker that counts its runs — must not run. A control case (the store
 * untouched) shows the marker does run when nothing is wrong.
 */
import { join } from "node:path";
import { errorMessage } from "../../runtime/errors.ts";
import { sleep } from "../../runtime/sleep.ts";
import { wrapRunKey } from "../../store/envelope.ts";
import { type KilnExit, runKilnIn } from "./kiln_process.ts";
import { type Lab, openLab } from "./labs.ts";
import { gist } from "./store_kill.ts";
import { openStoreRunners, type StoreRunners } from "./store_runners.ts";
import { Checks, type TrialOutcome } from "./trials.ts";

/** The commands a fresh runner tries on the edited run. */
const COMMANDS = ["replay", "runs show", "build --resume", "cleanup"] as const;
type Command = typeof COMMANDS[number];

/** One edit of the bucket. */
export interface HostileCase {
  name: string;
  /** Edits run `runId`'s objects (starting from the untouched run). */
  edit(bed: HostileBed): void;
  /** What each refusal must say. */
  says: RegExp;
  /** Commands that do not read what was edited, and so may succeed (they still must not act). */
  mayRead?: Command[];
}

/** An interrupted run in a store, with what the cases need to edit it. */
export interface HostileBed {
  lab: Lab;
  store: StoreRunners;
  runId: string;
  /** The run's objects as the interrupted build left them. */
  original: Map<string, Uint8Array>;
  /** Every version of seal.json seen while the build ran, oldest first. */
  seals: Uint8Array[];
  /** Another (finished) run in the same store (when asked for). */
  otherRunId?: string;
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The seq a seal record covers. */
function sealSeqOf(body: Uint8Array): number {
  return Number(/"seq":(\d+)/.exec(dec.decode(body))?.[1] ?? NaN);
}

/** The run's segments, in order, with the seq each starts with. */
function segmentsOf(objects: Map<string, Uint8Array>): { key: string; first: number }[] {
  return [...objects.keys()].filter((k) => k.startsWith("log/")).sort()
    .map((key) => ({ key, first: Number(key.slice(4)) }));
}

function lastKey(objects: Map<string, Uint8Array>, prefix: string): string {
  return [...objects.keys()].filter((k) => k.startsWith(prefix)).sort().at(-1)!;
}

/** The cases: the edits an attacker without the team key can make. */
export const HOSTILE_CASES: HostileCase[] = [
  {
    name: "an edited record in a segment",
    edit: (b) => {
      const key = [...b.original.keys()].filter((k) => k.startsWith("log/")).sort()[1];
      const text = dec.decode(b.original.get(key));
      // One character of a timestamp: valid JSON, wrong hash.
      b.store.write(
        b.runId,
        key,
        enc.encode(text.replace(/"ts":"(\d)/, (_, d) => `"ts":"${(Number(d) + 1) % 10}`)),
      );
    },
    says: /hash|chain|MAC|edited|forged|does not verify/i,
  },
  {
    name: "the log cut below its seal (the sealed segment and all after it deleted)",
    edit: (b) => {
      const sealed = sealSeqOf(b.original.get("seal.json")!);
      const segments = segmentsOf(b.original);
      const at = segments.findLastIndex((s) => s.first <= sealed);
      for (const s of segments.slice(at)) b.store.write(b.runId, s.key, undefined);
    },
    says: /cut|covers \d+ events/,
  },
  {
    name: "a stray object in log/",
    edit: (b) => b.store.write(b.runId, "log/notes.txt", enc.encode("{}\n")),
    says: /stray object/,
  },
  {
    name: "run.json of another run",
    edit: (b) => b.store.write(b.runId, "run.json", b.store.objects(b.otherRunId!).get("run.json")),
    says: /not this run's/,
  },
  {
    name: "a tampered resume secret",
    edit: (b) => {
      const key = lastKey(b.original, "secrets/");
      const body = b.original.get(key)!.slice();
      body[body.length - 20] ^= 1;
      b.store.write(b.runId, key, body);
    },
    says: /does not decrypt/,
    // The log itself is intact: readers may show it; only those that need the secrets must refuse.
    mayRead: ["replay", "runs show"],
  },
  {
    name: "run.json wrapping the attacker's own run key (another team key)",
    edit: (b) => {
      const meta = JSON.parse(dec.decode(b.original.get("run.json")));
      const attacker = {
        id: "a77ac0e5a77ac0e5",
        bytes: crypto.getRandomValues(new Uint8Array(32)),
      };
      meta.key = wrapRunKey(attacker, b.runId, crypto.getRandomValues(new Uint8Array(32)));
      b.store.write(b.runId, "run.json", enc.encode(JSON.stringify(meta)));
    },
    says: /another team key/,
  },
];

/**
 * A run killed after its first provisioner, in a store, ready to be
 * edited; with `another`, a second (finished) run beside it.
 */
export async function openHostileBed(another: boolean): Promise<HostileBed> {
  const lab = await openLab("null-ssh");
  const store = await openStoreRunners(lab);
  try {
    const seals: Uint8Array[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const [key, o] of store.s3.store.buckets.get(store.bucket)!.objects) {
          if (
            key.endsWith("/seal.json") && !seals.some((s) => dec.decode(s) === dec.decode(o.body))
          ) {
            seals.push(o.body);
          }
        }
        await sleep(5);
      }
    })();
    const first = await runKilnIn(
      ["build", ...lab.buildArgs],
      store.spawn("a", { KILN_CRASH_AFTER: "ProvisionerSucceeded" }),
    );
    watching = false;
    await watch;
    if (!first.runId || first.signal !== "SIGKILL") {
      throw new Error(`the interrupted build did not die as planned: ${gist(first)}`);
    }
    const other = another
      ? await runKilnIn(["build", ...lab.buildArgs], store.spawn("other"))
      : undefined;
    if (other && (!other.runId || other.code !== 0)) {
      throw new Error(`the second build failed: ${gist(other)}`);
    }
    // The dead runner's lease runs out before any case starts.
    await sleep(1200);
    return {
      lab,
      store,
      runId: first.runId,
      original: store.objects(first.runId),
      seals,
      otherRunId: other?.runId,
      close: async () => {
        await store.close();
        await lab.close();
      },
    };
  } catch (err) {
    await store.close();
    await lab.close();
    throw err;
  }
}

/** The run as the interrupted build left it, and no marker yet. */
async function restore(bed: HostileBed): Promise<void> {
  await Deno.writeTextFile(join(bed.lab.dir, "counter"), "");
  await Deno.remove(join(bed.lab.dir, "remote", "payload.bin")).catch(() => {});
  for (const key of bed.store.objects(bed.runId).keys()) bed.store.write(bed.runId, key, undefined);
  for (const [key, body] of bed.original) bed.store.write(bed.runId, key, body);
}

let runners = 0;

/** Runs every command from a fresh runner against the edited run; checks refusals and inaction. */
export async function hostileTrial(bed: HostileBed, hc: HostileCase): Promise<TrialOutcome> {
  const c = new Checks();
  try {
    await restore(bed);
    hc.edit(bed);
    const run = (cmd: Command) =>
      runKilnIn([...cmd.split(" "), bed.runId], bed.store.spawn(`fresh${++runners}`));
    // The readers and one lease taker at once; the other lease taker after it, so that it meets
    // the edit rather than the first one's lease.
    const outs = await Promise.all(COMMANDS.slice(0, 3).map(run));
    outs.push(await run(COMMANDS[3]));
    COMMANDS.forEach((cmd, i) => checkRefusal(c, cmd, outs[i], hc));
    const counter = await bed.lab.counter();
    c.expect(counter.length === 0, `a provisioner ran: ${counter.join(", ")}`);
    const uploaded = await Deno.stat(join(bed.lab.dir, "remote", "payload.bin")).then(
      () => true,
      () => false,
    );
    c.expect(!uploaded, "the file provisioner ran");
    return c.outcome();
  } catch (err) {
    c.expect(false, `trial error: ${errorMessage(err)}`);
    return c.outcome();
  }
}

function checkRefusal(c: Checks, cmd: Command, out: KilnExit, hc: HostileCase): void {
  const text = out.stdout + out.stderr;
  c.expect(!/^\s+at .+:\d+:\d+\)?$/m.test(text), `${cmd} printed a stack trace`);
  if (hc.mayRead?.includes(cmd)) return;
  c.expect(out.code !== 0, `${cmd} exited 0 (expected a refusal)`);
  c.expect(hc.says.test(text), `${cmd} did not say why (${hc.says.source}): ${gist(out)}`);
}

/** The control: the store untouched, a fresh runner's resume runs the marker. */
export async function controlTrial(bed: HostileBed): Promise<TrialOutcome> {
  const c = new Checks();
  await restore(bed);
  const out = await runKilnIn(
    ["build", "--resume", bed.runId],
    bed.store.spawn(`fresh${++runners}`),
  );
  c.expect(out.code === 0, `resume exited ${out.code}: ${gist(out)}`);
  const counter = await bed.lab.counter();
  c.expect(counter.includes("p2"), `the marker did not run (${counter.join(", ") || "nothing"})`);
  return c.outcome();
}

/**
 * seal.json replaced by an older copy of itself, the log kept whole: the
 * seal only says how far the log must reach at least (it lags the log
 * legitimately: it is uploaded after a durable append, in the background),
 * and every record carries the run key's MAC. Accepted, and harmless: the
 * resume continues after the last event, nothing that had finished runs
 * again.
 */
export async function olderSealTrial(bed: HostileBed): Promise<TrialOutcome> {
  const c = new Checks();
  await restore(bed);
  bed.store.write(bed.runId, "seal.json", bed.seals[0]);
  const last = bed.store.storedRecords(bed.runId).at(-1)?.seq;
  const replay = await runKilnIn(["replay", bed.runId], bed.store.spawn(`fresh${++runners}`));
  c.expect(replay.code === 0, `replay exited ${replay.code}: ${gist(replay)}`);
  const resume = await runKilnIn(
    ["build", "--resume", bed.runId],
    bed.store.spawn(`fresh${++runners}`),
  );
  c.expect(
    resume.code === 0 && resume.stdout.includes(`after event ${last}`),
    `resume did not continue after event ${last}: exit ${resume.code}: ${gist(resume)}`,
  );
  const counter = await bed.lab.counter();
  c.expect(!counter.includes("p0"), `p0, finished before the kill, ran again`);
  c.expect(counter.includes("p2"), `the resume did not finish the run`);
  return c.outcome();
}

/**
 * The known gap, observed rather than hidden: the run rolled back to a
 * state the store really was in — an older seal with only the segments it
 * covers, or the segments the store's seal did not cover yet deleted.
 * Without S3 object versioning or object lock the bucket cannot tell.
 * Returns what a fresh runner made of each.
 */
export async function gapObservations(bed: HostileBed): Promise<string[]> {
  const notes: string[] = [];
  const segments = segmentsOf(bed.original);
  const whole = segments.reduce(
    (n, s) => n + dec.decode(bed.original.get(s.key)).split("\n").length - 1,
    0,
  );

  // Past the store's seal: the segments written after the last seal upload.
  await restore(bed);
  const sealed = sealSeqOf(bed.original.get("seal.json")!);
  const past = segments.filter((s) => s.first > sealed);
  if (past.length > 0) {
    for (const s of past) bed.store.write(bed.runId, s.key, undefined);
    const out = await runKilnIn(
      ["build", "--resume", bed.runId],
      bed.store.spawn(`fresh${++runners}`),
    );
    const counter = await bed.lab.counter();
    notes.push(
      `cut past the store's seal (the dead runner's seal in the store covered ${sealed} of ` +
        `${whole} events: it trails by one durable append, as docs/store.md says; the last ` +
        `${whole - sealed} deleted): ` +
        (out.code === 0 ? "accepted; " : `resume exited ${out.code}; `) +
        (counter.includes("p0")
          ? "the resume ran p0 again, which had finished before the kill"
          : `provisioners run: ${counter.join(", ") || "none"}`),
    );
  } else {
    notes.push(`cut past the store's seal: the seal covered the whole log (${whole} events)`);
  }

  // An older seal with only what it covered: a state the store was in earlier.
  for (const seal of bed.seals.slice(0, -1)) {
    const seq = sealSeqOf(seal);
    const cut = segments.findIndex((s) => s.first === seq + 1);
    if (!(seq > 0) || cut < 0) continue;
    await restore(bed);
    bed.store.write(bed.runId, "seal.json", seal);
    for (const s of segments.slice(cut)) bed.store.write(bed.runId, s.key, undefined);
    const out = await runKilnIn(["replay", bed.runId], bed.store.spawn(`fresh${++runners}`));
    notes.push(
      `rolled back from ${whole} events to ${seq} (an older seal, later segments deleted): ` +
        (out.code === 0 ? "replay accepted it" : `replay refused it (${gist(out)})`),
    );
    break;
  }
  await restore(bed);
  return notes;
}
