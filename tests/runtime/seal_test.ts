/**
 * The sealed log, attacked as someone who can write `.kiln/` would: an
 * edited record re-hashed by the public rule, an injected ResourceCreated,
 * a log cut at a line boundary, a swapped seal id, a run without its seal,
 * another run's records, a symlink or a FIFO in the log's place. Each is
 * caught by replay (exit 1, naming the first bad seq) and refused by
 * `--resume` and `cleanup`, and the user's files survive.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { eventsPath, runDir } from "../../runtime/paths.ts";
import { runBuild } from "../../runtime/run_build.ts";
import { cleanupRun } from "../../runtime/cleanup.ts";
import { fakePlugins, fakeTemplate } from "./support/fakes.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { forgeLog, logRecords } from "../support/forge_log.ts";
import { kilnComponents } from "../../components.ts";

/** A failed run (-on-error=abort) whose ledger still holds live resources. */
async function abortedRun(root: string): Promise<{ home: string; runId: string; file: string }> {
  await Deno.mkdir(root, { recursive: true });
  const home = join(root, "home");
  const flag = join(root, "fail");
  await Deno.writeTextFile(flag, "");
  const r = await runBuild(fakeTemplate({ root, builds: ["a"], failFlag: flag }), {
    home,
    components: kilnComponents,
    plugins: fakePlugins,
    output: false,
    onError: "abort",
  });
  assert.equal(r.status, "failed");
  return { home, runId: r.runId, file: eventsPath(r.runId, home) };
}

function kiln(home: string, ...args: string[]) {
  return runKiln(args, { home });
}

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "kiln-seal-" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("an edited, re-hashed record is caught at its own seq by replay, resume and cleanup", async () => {
  await withRoot(async (root) => {
    const { home, runId, file } = await abortedRun(root);
    const recs = await logRecords(file);
    const at = recs.findIndex((r) => r.type === "Ui");
    recs[at] = { ...recs[at], data: { ...recs[at].data, message: "nothing to see here" } };
    await forgeLog(file, recs);
    const replay = await kiln(home, "replay", runId);
    assert.equal(replay.code, 1);
    assert.match(
      replay.stderr,
      new RegExp(`events\\.jsonl:${at + 1}: the record is not authenticated`),
    );
    for (const args of [["cleanup", runId], ["build", "--resume", runId]]) {
      const out = await kiln(home, ...args);
      assert.equal(out.code, 1, args.join(" "));
      assert.match(out.stderr, new RegExp(`events\\.jsonl:${at + 1}: `), args.join(" "));
      assert.doesNotMatch(out.stderr, /^\s+at /m, "no stack trace");
    }
  });
});

Deno.test("an injected ResourceCreated never makes cleanup delete a directory", async () => {
  await withRoot(async (root) => {
    const { home, runId, file } = await abortedRun(root);
    const precious = join(root, "precious");
    await Deno.mkdir(precious);
    await Deno.writeTextFile(join(precious, "data.txt"), "PRECIOUS");
    const recs = await logRecords(file);
    const created = recs.find((r) => r.type === "ResourceCreated")!;
    recs.splice(recs.indexOf(created) + 1, 0, {
      ...created,
      data: { kind: "fake.file", id: precious, data: { path: precious } },
    });
    await forgeLog(file, recs);
    const out = await kiln(home, "cleanup", runId);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /not authenticated by the run's key/);
    assert.equal(await Deno.readTextFile(join(precious, "data.txt")), "PRECIOUS");
  });
});

Deno.test("a log cut at a line boundary is caught below its seal", async () => {
  await withRoot(async (root) => {
    const { home, runId, file } = await abortedRun(root);
    const lines = (await Deno.readTextFile(file)).trimEnd().split("\n");
    for (const keep of [lines.length - 1, Math.floor(lines.length / 2), 0]) {
      await Deno.writeTextFile(file, lines.slice(0, keep).map((l) => l + "\n").join(""));
      const replay = await kiln(home, "replay", runId);
      assert.equal(replay.code, 1, `cut to ${keep} lines`);
      assert.match(
        replay.stderr,
        new RegExp(`events\\.jsonl:${keep + 1}: the log is cut: its seal covers ${lines.length}`),
      );
      const cleanup = await kiln(home, "cleanup", runId);
      assert.equal(cleanup.code, 1);
      assert.match(cleanup.stderr, /the log is cut/);
    }
  });
});

Deno.test("a run without its seal is shown but never acted on, unless accepted", async () => {
  await withRoot(async (root) => {
    const { home, runId } = await abortedRun(root);
    const dir = runDir(runId, home);
    const sealId = await Deno.readTextFile(join(dir, "seal.id"));
    await Deno.writeTextFile(join(dir, "seal.id"), "0".repeat(32));
    const replay = await kiln(home, "replay", runId);
    assert.equal(replay.code, 1);
    assert.match(replay.stderr, /NOT VERIFIED .*no seal for run/);
    const show = await kiln(home, "runs", "show", runId);
    assert.equal(show.code, 0);
    assert.match(show.stdout, /seal:\s+NONE on this machine/);
    const refused = await kiln(home, "cleanup", runId);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /has no seal .*--accept-unsealed/);
    assert.ok(await Deno.stat(join(root, "a-disk.res")), "nothing deleted while refused");
    // Restoring the seal id restores trust.
    await Deno.writeTextFile(join(dir, "seal.id"), sealId);
    const cleaned = await cleanupRun(runId, {
      home,
      components: kilnComponents,
      plugins: fakePlugins,
      output: false,
    });
    assert.equal(cleaned.failed.length, 0);
    await assert.rejects(Deno.stat(join(root, "a-disk.res")));
  });
});

Deno.test("another run's log in this run's directory is refused", async () => {
  await withRoot(async (root) => {
    const a = await abortedRun(join(root, "a"));
    const b = await abortedRun(join(root, "b"));
    await Deno.copyFile(b.file, a.file);
    const replay = await kiln(a.home, "replay", a.runId);
    assert.equal(replay.code, 1);
    assert.match(replay.stderr, new RegExp(`events\\.jsonl:1: record belongs to run "${b.runId}"`));
  });
});

Deno.test("a symlink or a FIFO in place of events.jsonl is refused; `kiln runs` never hangs", async () => {
  await withRoot(async (root) => {
    const a = await abortedRun(join(root, "a"));
    const b = await abortedRun(join(root, "b"));
    // b's directory now points its log at a's: b must not read, nor write into, a's log.
    const before = await Deno.readTextFile(a.file);
    const bHome = b.home;
    const target = eventsPath(b.runId, bHome);
    await Deno.remove(target);
    await Deno.symlink(a.file, target);
    const resume = await kiln(bHome, "build", "--resume", b.runId);
    assert.equal(resume.code, 1);
    assert.match(resume.stderr, /is a symbolic link, not a regular file/);
    assert.equal(await Deno.readTextFile(a.file), before, "a's log untouched");
    await Deno.remove(target);
    await new Deno.Command("mkfifo", { args: [target] }).output();
    const list = await kiln(bHome, "runs");
    assert.equal(list.code, 0);
    assert.match(list.stdout, new RegExp(`^${b.runId}\\s+corrupt\\s.*is a FIFO`, "m"));
    const replay = await kiln(bHome, "replay", b.runId);
    assert.equal(replay.code, 1);
    assert.match(replay.stderr, /is a FIFO, not a regular file/);
  });
});
