/**
 * The `local.process_group` deletion handler against real processes: it
 * stops a group only when it can prove the group is the one recorded (the
 * leader's start time, or the marker its members inherited, on this boot),
 * and never signals a process that merely holds a recorded number now.
 */
import assert from "node:assert/strict";
import { processGroupHandler } from "../../runtime/process_group.ts";
import type { CleanupContext, ResourceRecord } from "../../runtime/types.ts";
import { alive, goneWithin } from "../support/processes.ts";

function startTime(pid: number): string {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

const bootId = () => Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim();

function context(): CleanupContext & { says: string[] } {
  const says: string[] = [];
  return {
    runId: "20261122T000000Z-test01",
    buildName: "b",
    config: {},
    ui: { say: (m) => says.push(m), message: () => {}, error: () => {} },
    signal: new AbortController().signal,
    says,
  };
}

function record(data: Record<string, unknown>): ResourceRecord {
  return { kind: "local.process_group", id: `${data.pgid}@${data.leaderStart}`, data };
}

/**
 * A process group of ours: a leader that starts `sleep 30` in the background
 * and waits for its stdin to close; `marker` goes into the environment.
 */
async function group(marker = "m-1") {
  const leader = new Deno.Command("/bin/sh", {
    args: ["-c", "sleep 30 & echo $!; read _"],
    env: { KILN_PROCESS_GROUP: marker },
    stdin: "piped",
    stdout: "piped",
    detached: true,
  }).spawn();
  const reader = leader.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) text += (await reader.read()).value ?? "";
  reader.releaseLock();
  const member = Number(text.trim());
  const identity = {
    pgid: leader.pid,
    leaderStart: startTime(leader.pid),
    bootId: bootId(),
    marker,
  };
  return {
    leader,
    member,
    identity,
    /** The leader exits (and is reaped); the member stays in the group. */
    async dropLeader() {
      await leader.stdin.close();
      await leader.status;
      await leader.stdout.cancel().catch(() => {});
    },
    async close() {
      try {
        Deno.kill(-leader.pid, "SIGKILL");
      } catch { /* gone */ }
      await leader.stdin.close().catch(() => {});
      await leader.status;
      await leader.stdout.cancel().catch(() => {});
    },
  };
}

Deno.test("a live group that is the recorded one is stopped, every member of it", async () => {
  const g = await group();
  try {
    const ctx = context();
    await processGroupHandler.delete(ctx, record({ ...g.identity, graceMs: 500 }));
    assert.ok(await goneWithin(g.member, 1000), "the member still runs");
    assert.ok(await goneWithin(g.leader.pid, 1000), "the leader still runs");
    assert.match(ctx.says.join("\n"), /Stopping process group \d+/);
  } finally {
    await g.close();
  }
});

Deno.test("a reused pid is never signalled: the start time does not match", async () => {
  const g = await group();
  try {
    const ctx = context();
    const stale = { ...g.identity, leaderStart: String(Number(g.identity.leaderStart) - 1) };
    await processGroupHandler.delete(ctx, record({ ...stale, graceMs: 100 }));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(await alive(g.leader.pid), "the process now holding the pid was signalled");
    assert.ok(await alive(g.member), "its child was signalled");
    assert.deepEqual(ctx.says, []);
  } finally {
    await g.close();
  }
});

Deno.test("another boot's group is gone, whatever holds its numbers now", async () => {
  const g = await group();
  try {
    await processGroupHandler.delete(
      context(),
      record({ ...g.identity, bootId: "00000000-0000-0000-0000-000000000000", graceMs: 100 }),
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(await alive(g.leader.pid) && await alive(g.member), "a process was signalled");
  } finally {
    await g.close();
  }
});

Deno.test("with the leader gone, members count only if they carry the group's marker", async () => {
  const g = await group("marker-of-this-group");
  try {
    await g.dropLeader();
    assert.ok(await alive(g.member), "the member outlived its leader");
    // A group that reuses the number would not carry our marker: left alone.
    await processGroupHandler.delete(
      context(),
      record({ ...g.identity, marker: "marker-of-another-group", graceMs: 100 }),
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(await alive(g.member), "a process without the marker was signalled");
    // With the marker the orphaned member is ours, and it is stopped.
    await processGroupHandler.delete(context(), record({ ...g.identity, graceMs: 500 }));
    assert.ok(await goneWithin(g.member, 1000), "the orphaned member still runs");
  } finally {
    await g.close();
  }
});

Deno.test("a ledger entry that does not name a group is refused, never signalled", async () => {
  for (const pgid of [1, 0, -1, "12", 1.5]) {
    await assert.rejects(
      processGroupHandler.delete(
        context(),
        record({ pgid, leaderStart: "1", bootId: bootId(), marker: "m" }),
      ),
      /does not name a process group .* refusing to signal/,
    );
  }
});
