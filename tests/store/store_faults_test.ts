/**
 * The store misbehaving under a running build: a lease taken over, another
 * writer's append racing ours, the store unreachable for a while or for too
 * long, answers lost on the way back, throttling. Whatever happens, the log
 * never forks, no event is lost, and a build that cannot record stops
 * before its next side effect and is resumed afterwards.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runIdOf, startStoreLab, writeStoreTemplate } from "../support/store_lab.ts";

const PAUSE = /Running local shell script[\s\S]*Running local shell script/;

Deno.test("a runner whose lease was taken over stops before its next side effect", async () => {
  const lab = await startStoreLab();
  try {
    const template = await writeStoreTemplate(lab.dir, 3);
    const a = lab.watch("a", ["build", template]);
    await a.waitFor(PAUSE);
    const id = runIdOf(a.output());
    // Another runner's takeover, as the bucket sees it.
    const key = `${lab.prefix}${id}/lease.json`;
    lab.s3.store.put(
      lab.bucket,
      key,
      new TextEncoder().encode(JSON.stringify({
        owner: "someone-else",
        host: "runner-b",
        pid: 4242,
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      })),
      "application/json",
    );
    const status = await a.done();
    assert.equal(status.code, 1, a.output());
    assert.match(a.output(), /lost run .*lease was taken over by runner-b pid 4242/);
    assert.ok(!existsSync(join(lab.dir, "second.done")), "the next provisioner never ran");
  } finally {
    await lab.close();
  }
});

Deno.test("an append racing another writer's append of the same event is refused: the log cannot fork", async () => {
  const lab = await startStoreLab({ leaseSeconds: 30 });
  try {
    const template = await writeStoreTemplate(lab.dir, 3);
    const a = lab.watch("a", ["build", template]);
    await a.waitFor(PAUSE);
    const id = runIdOf(a.output());
    await new Promise((r) => setTimeout(r, 600)); // output records reach the store
    const segments = lab.keys(id, "log/");
    const lastText = new TextDecoder().decode(lab.objects().get(segments.at(-1)!)!);
    const lastSeq = Math.max(...[...lastText.matchAll(/"seq":(\d+)/g)].map((m) => Number(m[1])));
    const next = `${lab.prefix}${id}/log/${String(lastSeq + 1).padStart(12, "0")}`;
    lab.s3.store.put(lab.bucket, next, new TextEncoder().encode("{}\n"), "text/plain");
    const status = await a.done();
    assert.equal(status.code, 1, a.output());
    assert.match(a.output(), /another runner already recorded event \d+/);
    assert.ok(!existsSync(join(lab.dir, "second.done")));
    // The store's log is refused as it stands (the foreign segment does not continue it).
    const replay = await lab.kiln("b", ["replay", id]);
    assert.notEqual(replay.code, 0);
  } finally {
    await lab.close();
  }
});

Deno.test("the store unreachable for a while: the build waits, says so, and finishes; nothing is lost", async () => {
  const lab = await startStoreLab();
  try {
    const template = await writeStoreTemplate(lab.dir, 1);
    const a = lab.watch("a", ["build", template]);
    await a.waitFor(PAUSE);
    await lab.s3.goOffline(3500);
    const status = await a.done();
    assert.equal(status.code, 0, a.output());
    assert.match(a.output(), /is not answering .* waiting up to 300 s/);
    assert.match(a.output(), /answers again/);
    const id = runIdOf(a.output());
    const replay = await lab.kiln("b", ["replay", id]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /second/);
    assert.match(replay.stdout, /Builds finished/);
  } finally {
    await lab.close();
  }
});

Deno.test("the store unreachable for longer than KILN_STORE_WAIT_SECONDS: the build stops cleanly and another runner resumes it", async () => {
  const lab = await startStoreLab();
  try {
    const template = await writeStoreTemplate(lab.dir, 1);
    const a = lab.watch("a", ["build", template], { KILN_STORE_WAIT_SECONDS: "1" });
    await a.waitFor(PAUSE);
    await lab.s3.goOffline();
    const status = await a.done();
    assert.equal(status.code, 1, a.output());
    assert.match(a.output(), /did not answer .* within 1 s/);
    assert.match(a.output(), /kiln build --resume/);
    assert.ok(!existsSync(join(lab.dir, "second.done")), "nothing ran unrecorded");
    lab.s3.goOnline();
    const id = runIdOf(a.output());
    const resumed = await lab.kiln("b", ["build", "--resume", id]);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.ok(existsSync(join(lab.dir, "second.done")));
  } finally {
    await lab.close();
  }
});

Deno.test("lost answers, 500 bursts and throttling: every write lands once and the log verifies", async () => {
  const lab = await startStoreLab();
  try {
    const template = await writeStoreTemplate(lab.dir, 0);
    lab.s3.faults.configure({
      seed: 7,
      throttleRate: 0.2,
      errorBursts: [{ startCall: 5, length: 3, status: 500 }],
      lostResponses: [
        { operation: "PutObject", keyPrefix: `${lab.prefix}`, nth: 4, mode: "error" },
        { operation: "PutObject", keyPrefix: `${lab.prefix}`, nth: 9, mode: "drop" },
      ],
    });
    const a = await lab.kiln("a", ["build", template]);
    assert.equal(a.code, 0, a.stderr + a.stdout);
    assert.ok((lab.s3.faults.injected.get("LostResponse") ?? 0) >= 1);
    lab.s3.faults.configure({});
    const id = runIdOf(a.stdout);
    const replay = await lab.kiln("b", ["replay", id]);
    assert.equal(replay.code, 0, replay.stderr);
    const local = Deno.readFileSync(join(lab.dir, "a", "home", "runs", id, "events.jsonl"));
    const copy = Deno.readFileSync(join(lab.dir, "b", "home", "runs", id, "events.jsonl"));
    assert.deepEqual(copy, local, "no event lost or doubled");
  } finally {
    await lab.close();
  }
});
