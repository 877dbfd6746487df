/**
 * The test-guest cache under concurrency and crashes, with real processes
 * and real file locks: one build per entry, never a half-built entry, and
 * nothing left over from builds that failed or were killed.
 */
import assert from "node:assert/strict";
import { exists } from "../../runtime/fs.ts";
import { withTempDir } from "../support/temp_dir.ts";

const child = decodeURIComponent(new URL("./build_once_child.ts", import.meta.url).pathname);

function spawnChild(cache: string, behaviour: "ok" | "fail" | "hang") {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", child, behaviour],
    env: { KILN_TEST_CACHE: cache },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finished(process: Deno.ChildProcess) {
  const out = await process.output();
  const text = new TextDecoder().decode(out.stdout).trim();
  return {
    code: out.code,
    result: text ? JSON.parse(text) : undefined,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function leftovers(cache: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${cache}/guests`)) {
    if (entry.name.includes(".partial-")) names.push(entry.name);
  }
  return names;
}

async function builders(cache: string): Promise<number> {
  return (await Deno.readTextFile(`${cache}/builders.log`)).trim().split("\n").length;
}

Deno.test("guest cache: three processes asking at once get one build, each sees it whole", () =>
  withTempDir(async (cache) => {
    const runs = await Promise.all([1, 2, 3].map(() => finished(spawnChild(cache, "ok"))));
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    assert.equal(await builders(cache), 1);
    assert.deepEqual(runs.map((r) => r.result.fromCache).sort(), [false, true, true]);
    const dir = runs[0].result.dir;
    for (const run of runs) assert.equal(run.result.dir, dir);
    assert.equal(await Deno.readTextFile(`${dir}/whole`), "written last");
    assert.deepEqual(await leftovers(cache), []);
  }));

Deno.test("guest cache: a failed build leaves no entry, and the next request builds again", () =>
  withTempDir(async (cache) => {
    const failed = await finished(spawnChild(cache, "fail"));
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /the build broke/);
    assert.deepEqual(await leftovers(cache), []);
    const next = await finished(spawnChild(cache, "ok"));
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.result.fromCache, false);
    assert.equal(await builders(cache), 2);
  }));

Deno.test("guest cache: a builder killed mid-build blocks nobody and its scratch directory is cleared", () =>
  withTempDir(async (cache) => {
    const hung = spawnChild(cache, "hang");
    const deadline = Date.now() + 30_000;
    while (!(await exists(`${cache}/builders.log`))) {
      assert.ok(Date.now() < deadline, "the first builder never started");
      await new Promise((r) => setTimeout(r, 50));
    }
    const waiting = spawnChild(cache, "ok");
    await new Promise((r) => setTimeout(r, 300));
    hung.kill("SIGKILL");
    await hung.output();
    const next = await finished(waiting);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(
      next.result.fromCache,
      false,
      "the waiting process built it after the lock holder died",
    );
    assert.equal(await Deno.readTextFile(`${next.result.dir}/whole`), "written last");
    assert.deepEqual(await leftovers(cache), []);
  }));
