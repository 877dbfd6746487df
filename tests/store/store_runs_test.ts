/**
 * Runs in a shared store, seen from several runners: a run built on one is
 * listed, shown and replayed on another; a run killed on one is resumed by
 * another once its lease has expired, exactly one of two contenders wins;
 * nothing secret reaches the bucket in clear.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runIdOf, startStoreLab, writeStoreTemplate } from "../support/store_lab.ts";

const TOKEN = "tok-9f27c1e0-never-in-the-bucket";

Deno.test("a run built on one runner is listed, shown and replayed on another; its secrets never reach the bucket in clear", async () => {
  const lab = await startStoreLab();
  try {
    const template = await writeStoreTemplate(lab.dir);
    const built = await lab.kiln("a", ["build", "-var", `token=${TOKEN}`, template]);
    assert.equal(built.code, 0, built.stderr + built.stdout);
    const id = runIdOf(built.stdout);
    assert.ok(lab.keys(id, "log/").length > 0, "the log is in the bucket");

    const gets = () => lab.s3.calls.get("GetObject") ?? 0;
    const before = gets();
    const runs = await lab.kiln("b", ["runs"]);
    assert.equal(runs.code, 0, runs.stderr);
    // A finished run's last snapshot is all a listing needs: not its segments.
    assert.ok(gets() - before <= 4, `runs fetched ${gets() - before} objects for one run`);
    assert.match(runs.stdout, new RegExp(`${id}.*succeeded`));
    const replay = await lab.kiln("b", ["replay", id]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout + replay.stderr, /sealed log verified: \d+ events/);
    assert.match(replay.stdout, /first with <sensitive>/);
    // The working copy on b is byte for byte the writer's log.
    const log = (name: string) =>
      Deno.readFileSync(join(lab.dir, name, "home", "runs", id, "events.jsonl"));
    assert.deepEqual(log("b"), log("a"));

    // A failed run keeps its inputs (with the token) for a resume: encrypted.
    const failing = join(lab.dir, "failing.json");
    await Deno.writeTextFile(
      failing,
      JSON.stringify({
        variables: { token: "" },
        "sensitive-variables": ["token"],
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [{ type: "shell-local", inline: ["echo $0 {{user `token`}}", "exit 3"] }],
      }),
    );
    const failed = await lab.kiln("a", ["build", "-var", `token=${TOKEN}`, failing]);
    assert.notEqual(failed.code, 0);
    const failedId = runIdOf(failed.stdout + failed.stderr);
    assert.ok(lab.keys(failedId, "secrets/").length > 0, "resume secrets are stored");
    const needle = new TextEncoder().encode(TOKEN);
    for (const [key, body] of lab.objects()) {
      assert.ok(!includes(body, needle), `${key} holds the token in clear`);
      assert.ok(!/BEGIN [A-Z ]*PRIVATE KEY/.test(new TextDecoder().decode(body)), key);
    }
    // ...and runner b can read them back to resume (inputs restored).
    const again = await lab.kiln("b", ["build", "--resume", failedId]);
    assert.notEqual(again.code, 0);
    assert.match(again.stdout + again.stderr, /Resuming run/);
    assert.doesNotMatch(again.stdout + again.stderr, new RegExp(TOKEN));
  } finally {
    await lab.close();
  }
});

Deno.test("a runner killed mid-build is resumed by another after its lease expires; a live runner's run is refused", async () => {
  const lab = await startStoreLab();
  try {
    const template = await writeStoreTemplate(lab.dir, 6);
    // Runner a is alive (in the pause): b may not take its run.
    const a = lab.watch("a", ["build", template]);
    // The second script is the pause.
    await a.waitFor(/Running local shell script[\s\S]*Running local shell script/);
    const id = runIdOf(a.output());
    const listed = await lab.kiln("b", ["runs"]);
    assert.match(listed.stdout, new RegExp(`${id}\\s+running`), "a's lease says it runs");
    const refused = await lab.kiln("b", ["build", "--resume", id]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /being driven by another runner/);
    // kill -9 of runner a: its lease is never given back.
    a.process.kill("SIGKILL");
    await a.done();
    assert.ok(existsSync(join(lab.dir, "first.done")));
    assert.ok(!existsSync(join(lab.dir, "second.done")));
    await new Promise((r) => setTimeout(r, 2500)); // the lease runs out
    const after = await lab.kiln("b", ["runs"]);
    assert.match(after.stdout, new RegExp(`${id}\\s+interrupted`));
    const resumed = await lab.kiln("b", ["build", "--resume", id]);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.match(resumed.stdout, /Resuming run/);
    assert.ok(existsSync(join(lab.dir, "second.done")));
    // One chain, readable from the dead runner's machine too.
    const replay = await lab.kiln("a", ["replay", id]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /RunResumed|Resuming run/);
  } finally {
    await lab.close();
  }
});

Deno.test("two runners resuming the same dead run at once: exactly one proceeds", async () => {
  const lab = await startStoreLab();
  try {
    const template = await writeStoreTemplate(lab.dir, 2);
    const a = await lab.kiln("a", ["build", template], {
      KILN_CRASH_AFTER: "ProvisionerSucceeded",
    });
    assert.equal(a.signal, "SIGKILL");
    const id = runIdOf(a.stdout + a.stderr);
    // Slow commits make the two takeovers' conditional writes overlap: S3's 409 for one of them.
    lab.s3.faults.configure({ putCommitDelayMs: 300 });
    const [b, c] = await Promise.all([
      lab.kiln("b", ["build", "--resume", id]),
      lab.kiln("c", ["build", "--resume", id]),
    ]);
    const codes = [b.code, c.code].sort();
    assert.equal(codes[0], 0, b.stderr + c.stderr);
    assert.notEqual(codes[1], 0);
    lab.s3.faults.configure({});
    const loser = b.code === 0 ? c : b;
    assert.match(loser.stderr, /another runner|being driven/);
    const replay = await lab.kiln("d", ["replay", id]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal((replay.stdout.match(/Resuming run/g) ?? []).length, 1);
  } finally {
    await lab.close();
  }
});

function includes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("the same runner resuming after kill -9 sends the output its dead process had not sent yet: nothing is lost", async () => {
  const lab = await startStoreLab();
  try {
    const template = await writeStoreTemplate(lab.dir, 0);
    // Killed right after an output line is written: it is on this machine's disk, not yet in the store.
    const a = await lab.kiln("a", ["build", template], { KILN_CRASH_AFTER: "Ui" });
    assert.equal(a.signal, "SIGKILL");
    const id = runIdOf(a.stdout + a.stderr);
    const local = new TextDecoder().decode(
      Deno.readFileSync(join(lab.dir, "a", "home", "runs", id, "events.jsonl")),
    );
    const written = local.trimEnd().split("\n").length;
    const stored = lab.keys(id, "log/").map((k) => new TextDecoder().decode(lab.objects().get(k)!))
      .join("").trimEnd().split("\n").length;
    assert.ok(stored < written, `the store lags (${stored} of ${written})`);
    const resumed = await lab.kiln("a", ["build", "--resume", id]);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    const copy = await lab.kiln("b", ["replay", id]);
    assert.equal(copy.code, 0, copy.stderr);
    const mine = new TextDecoder().decode(
      Deno.readFileSync(join(lab.dir, "b", "home", "runs", id, "events.jsonl")),
    );
    assert.ok(mine.startsWith(local), "every record the dead process wrote is in the store");
  } finally {
    await lab.close();
  }
});

Deno.test("a fresh runner fetches only the log after the newest sealed snapshot to resume; a full reader gets every record", async () => {
  const lab = await startStoreLab();
  try {
    const template = join(lab.dir, "chatty.json");
    await Deno.writeTextFile(
      template,
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [
          { type: "shell-local", inline: ["for i in $(seq 1 300); do echo line $i; done"] },
          { type: "shell-local", inline: [`touch ${join(lab.dir, "after.done")}`] },
        ],
      }),
    );
    const snapshots = { KILN_SNAPSHOT_EVERY: "40" };
    const a = await lab.kiln("a", ["build", template], {
      ...snapshots,
      KILN_CRASH_AFTER: "ProvisionerSucceeded",
    });
    assert.equal(a.signal, "SIGKILL");
    const id = runIdOf(a.stdout + a.stderr);
    assert.ok(lab.keys(id, "snapshots/").length > 0, "the writer stored snapshots");

    const resumed = await lab.kiln("b", ["build", "--resume", id], snapshots);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.ok(existsSync(join(lab.dir, "after.done")));
    const copy = join(lab.dir, "b", "home", "runs", id);
    const base = JSON.parse(await Deno.readTextFile(join(copy, "store-base.json")));
    assert.ok(base.f > 200, `b's copy starts at a late snapshot (event ${base.f})`);
    const index = (await Deno.readTextFile(join(copy, "store-index.jsonl"))).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.ok(index[0].f >= base.f, "no segment before the snapshot was fetched");

    // runs show folds from the snapshot too, on yet another runner.
    const shown = await lab.kiln("d", ["runs", "show", id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /succeeded/);
    assert.ok(existsSync(join(lab.dir, "d", "home", "runs", id, "store-base.json")));

    // replay reads every record: the copy is fetched whole, and it verifies.
    const replay = await lab.kiln("b", ["replay", id]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /line 1\n[\s\S]*line 300\n/);
    assert.ok(!existsSync(join(copy, "store-base.json")));
    const full = await lab.kiln("c", ["replay", id]);
    assert.deepEqual(
      Deno.readFileSync(join(copy, "events.jsonl")),
      Deno.readFileSync(join(lab.dir, "c", "home", "runs", id, "events.jsonl")),
    );
    assert.equal(full.code, 0);
  } finally {
    await lab.close();
  }
});
