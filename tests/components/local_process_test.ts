/**
 * A local command as shell-local runs it, against real processes: stopping
 * it gives the whole process group the SIGTERM grace (a script's
 * `trap ... TERM` finishes, even when the direct child is already gone),
 * then SIGKILL; the group is in the ledger before the command can do
 * anything, and leaves it once nothing of it runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLocalCommand, StartError } from "../../provisioners/shared/local_process.ts";
import { LOCAL_PROCESS_GROUP } from "../../runtime/process_group.ts";
import type { ResourceLedger, ResourceRecord } from "../../runtime/types.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { alive, goneWithin } from "../support/processes.ts";

/** A ledger that keeps what it is told, in order. */
function recordingLedger(): ResourceLedger & { calls: { call: string; record: unknown }[] } {
  const calls: { call: string; record: unknown }[] = [];
  return {
    calls,
    intent: (record) => Promise.resolve(void calls.push({ call: "intent", record })),
    created: (record) => Promise.resolve(void calls.push({ call: "created", record })),
    deleted: (record) => Promise.resolve(void calls.push({ call: "deleted", record })),
  };
}

async function waitForFile(path: string, ms = 10_000): Promise<string> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    try {
      const text = await Deno.readTextFile(path);
      if (text.endsWith("\n")) return text;
    } catch {
      // Not yet.
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} never appeared`);
}

/** Runs `command` under `sh -c`, aborts it once it wrote `ready`, and returns how it ended. */
async function abortOnceReady(
  dir: string,
  command: string,
  options: { killGraceMs?: number } = {},
): Promise<{ error: unknown; ms: number; pids: number[] }> {
  const abort = new AbortController();
  const run = runLocalCommand(["/bin/sh", "-c", command], {
    cwd: dir,
    signal: abort.signal,
    killGraceMs: options.killGraceMs,
  });
  const pids = (await waitForFile(join(dir, "ready"))).trim().split(/\s+/).map(Number);
  const started = Date.now();
  abort.abort(new Error("cancelled by the test"));
  const error = await run.then(() => undefined, (err) => err);
  return { error, ms: Date.now() - started, pids };
}

Deno.test("the SIGTERM grace reaches the whole group: a script's TERM trap finishes", async () => {
  await withTempDir(async (dir) => {
    // As shell-local runs it: `/bin/sh -c "VARS script"`, a shell that dies at once on SIGTERM.
    const script = join(dir, "script.sh");
    await Deno.writeTextFile(
      script,
      `trap 'sleep 1; echo done > trapped; exit 0' TERM\necho $$ > ready\nsleep 60 & wait\n`,
    );
    const { error, ms } = await abortOnceReady(dir, `FOO='bar' /bin/sh ${script}`);
    assert.match(String(error), /cancelled by the test/);
    assert.equal(await Deno.readTextFile(join(dir, "trapped")), "done\n");
    assert.ok(ms >= 900 && ms < 1900, `stopped after ${ms} ms`);
  });
});

Deno.test("the grace holds for a grandchild's trap after the direct child has exited", async () => {
  await withTempDir(async (dir) => {
    // The leader dies at once on SIGTERM; its child traps it and needs a second.
    const inner = `trap 'sleep 1; echo done > trapped; exit 0' TERM; sleep 60 & wait`;
    const { error, pids } = await abortOnceReady(
      dir,
      `sh -c "${inner}" & echo "$$ $!" > ready; wait`,
    );
    assert.match(String(error), /cancelled by the test/);
    assert.equal(await Deno.readTextFile(join(dir, "trapped")), "done\n");
    for (const pid of pids) assert.ok(!await alive(pid), `process ${pid} outlived the stop`);
  });
});

Deno.test("a group that ignores SIGTERM is killed when the grace runs out", async () => {
  await withTempDir(async (dir) => {
    const { error, ms, pids } = await abortOnceReady(
      dir,
      `trap '' TERM; sleep 60 & echo "$$ $!" > ready; wait`,
      { killGraceMs: 400 },
    );
    assert.match(String(error), /cancelled by the test/);
    assert.ok(ms >= 380 && ms < 1500, `killed after ${ms} ms`);
    for (const pid of pids) assert.ok(await goneWithin(pid, 1000), `process ${pid} survived`);
  });
});

Deno.test("the process group is in the ledger while it runs, with what proves it is the same", async () => {
  await withTempDir(async (dir) => {
    const ledger = recordingLedger();
    const result = await runLocalCommand(
      ["/bin/sh", "-c", `cat /proc/$$/stat > stat; echo "$KILN_PROCESS_GROUP" > marker`],
      { cwd: dir, ledger, label: "the script" },
    );
    assert.equal(result.code, 0);
    assert.deepEqual(ledger.calls.map((c) => c.call), ["intent", "created", "deleted"]);
    const created = ledger.calls[1].record as ResourceRecord;
    const stat = await Deno.readTextFile(join(dir, "stat"));
    const pid = Number(stat.split(" ")[0]);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    assert.equal(created.kind, LOCAL_PROCESS_GROUP);
    assert.equal(created.temporary, true);
    assert.deepEqual(created.data, {
      pgid: pid,
      leaderStart: fields[19],
      bootId: (await Deno.readTextFile("/proc/sys/kernel/random/boot_id")).trim(),
      marker: (await Deno.readTextFile(join(dir, "marker"))).trim(),
      graceMs: 2000,
      label: "the script",
    });
    assert.equal(Number(fields[2]), pid, "the command leads its own process group");
    const deleted = ledger.calls[2].record as ResourceRecord;
    assert.deepEqual([deleted.kind, deleted.id], [created.kind, created.id]);
  });
});

Deno.test("what a script leaves running in its group is stopped when it ends", async () => {
  await withTempDir(async (dir) => {
    const said: string[] = [];
    const result = await runLocalCommand(
      ["/bin/sh", "-c", `sleep 60 >/dev/null 2>&1 & echo $! > bg`],
      { cwd: dir, ledger: recordingLedger(), say: (m) => said.push(m) },
    );
    assert.equal(result.code, 0);
    const bg = Number(await Deno.readTextFile(join(dir, "bg")));
    assert.ok(!await alive(bg), "the background sleep outlived its script");
    assert.match(said.join("\n"), /Stopping what the script left running \(process group \d+\)/);
  });
});

Deno.test("a command never runs before its group is recorded", async () => {
  await withTempDir(async (dir) => {
    const ledger: ResourceLedger = {
      intent: () => Promise.resolve(),
      created: () => Promise.reject(new Error("the log is gone")),
      deleted: () => Promise.resolve(),
    };
    await assert.rejects(
      runLocalCommand(["/bin/sh", "-c", "touch ran"], { cwd: dir, ledger }),
      /the log is gone/,
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await Deno.stat(join(dir, "ran")).then(() => true, () => false), false);
  });
});

Deno.test("a program that does not exist is a StartError, as before the gate", async () => {
  await assert.rejects(
    runLocalCommand(["kiln-no-such-program"]),
    (err: unknown) =>
      err instanceof StartError && /kiln-no-such-program: no such file/.test(err.message),
  );
  await assert.rejects(runLocalCommand(["/tmp"]), StartError);
});
