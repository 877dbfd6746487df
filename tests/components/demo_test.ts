import assert from "node:assert/strict";
import { join } from "node:path";
import { sh, withTempDir } from "./support.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { testCacheRoot } from "../support/guests/cache.ts";
import { parseDemoArgs } from "../../cli/demo.ts";

function kiln(args: string[], cwd: string, env: Record<string, string> = {}) {
  return runKiln(args, { cwd, home: join(cwd, ".kiln"), env });
}

/** The run's PackerRunUUID, as its RunStarted event records it (the manifest's last_run_uuid). */
async function runUuidOf(dir: string, runId: string): Promise<string> {
  const events = await Deno.readTextFile(join(dir, ".kiln", "runs", runId, "events.jsonl"));
  const started = JSON.parse(events.slice(0, events.indexOf("\n")));
  assert.equal(started.type, "RunStarted");
  return started.data.runUuid;
}

function replayHint(stdout: string): string {
  const runId = /kiln replay (\S+?)`/.exec(stdout)?.[1];
  assert.ok(runId, "the demo tells how to replay its run");
  return runId;
}

Deno.test("kiln demo builds a machine image with qemu, checksums it and tells how to replay the run", async () => {
  await withTempDir(async (dir) => {
    // The demo caches its guest under $XDG_CACHE_HOME/kiln: the tests' own root, not the user's.
    const env = { XDG_CACHE_HOME: join(testCacheRoot(), "demo") };
    const demo = await kiln(["demo", "--output-dir", "out"], dir, env);
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    assert.match(demo.stdout, /kiln demo: qemu: \S+ \(TCG runs guests here\)/);
    assert.match(demo.stdout, /Typing the boot command over VNC/);
    assert.match(demo.stdout, /fetched over the build's HTTP server: Hello from kiln/);
    assert.match(demo.stdout, /Converting hard drive/);
    assert.match(demo.stdout, /kiln demo: a machine image, built in \d+ s/);
    const runId = replayHint(demo.stdout);
    assert.match(demo.stdout, new RegExp(`run +${runId}: .*\`kiln replay ${runId}\``));

    const imageDir = join(dir, "out", "image");
    const image = join(imageDir, "kiln-demo.qcow2");
    const check = await sh("qemu-img", ["check", image]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const info = JSON.parse((await sh("qemu-img", ["info", "--output=json", image])).stdout);
    assert.equal(info.format, "qcow2");
    assert.equal(info["virtual-size"], 100 * 1024 * 1024);
    const sums = await sh("sha256sum", ["-c", "machine.sha256"], imageDir);
    assert.equal(sums.code, 0, sums.stdout + sums.stderr);
    assert.match(sums.stdout, /kiln-demo\.qcow2: OK/);

    // What the provisioner wrote over SSH is on the installed disk's boot partition (at 1 MiB).
    const raw = join(dir, "disk.raw");
    assert.equal((await sh("qemu-img", ["convert", "-O", "raw", image, raw])).code, 0);
    const stamp = await sh("mtype", ["-i", `${raw}@@1M`, "::/kiln-build.txt"]);
    assert.equal(stamp.code, 0, stamp.stderr);
    assert.match(stamp.stdout, /^built by kiln \(machine build, .*\)\nHello from kiln/);

    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "out", "manifest.json")));
    assert.equal(manifest.last_run_uuid, await runUuidOf(dir, runId));
    assert.deepEqual(manifest.builds[0].files.map((f: { name: string }) => f.name), [
      "kiln-demo.qcow2",
      "machine.sha256",
    ]);
    const replay = await kiln(["replay", runId], dir);
    assert.equal(replay.code, 0, replay.stdout + replay.stderr);
    assert.match(replay.stdout, /Typing the boot command over VNC/);
  });
});

async function assertFileDemo(dir: string, stdout: string): Promise<void> {
  assert.match(stdout, /site \(file\) says: Hello from kiln/);
  assert.match(stdout, /checks \(null\) says: Hello from kiln/);
  const runId = replayHint(stdout);
  const check = await sh("sha256sum", ["-c", "site.sha256"], join(dir, "out"));
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const list = await sh("tar", ["-tzf", join(dir, "out", "site.tar.gz")]);
  assert.deepEqual(list.stdout.trim().split("\n").sort(), ["about.txt", "index.html"]);
  const manifest = JSON.parse(await Deno.readTextFile(join(dir, "out", "manifest.json")));
  const site = manifest.builds.find((b: { name: string }) => b.name === "site");
  assert.deepEqual(site.files.map((f: { name: string }) => f.name), [
    "site.tar.gz",
    "site.sha256",
  ]);
  assert.equal(manifest.last_run_uuid, await runUuidOf(dir, runId));
  const replay = await kiln(["replay", runId], dir);
  assert.equal(replay.code, 0, replay.stdout + replay.stderr);
}

Deno.test("kiln demo says why qemu cannot run and falls back to the file build", async () => {
  await withTempDir(async (dir) => {
    const demo = await kiln(["demo", "--output-dir", "out"], dir, {
      KILN_QEMU_BINARY: "/nonexistent/qemu-system-x86_64",
    });
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    assert.match(
      demo.stdout,
      /kiln demo: qemu cannot run here: KILN_QEMU_BINARY=\/nonexistent\/qemu-system-x86_64 is not an executable file\.\nkiln demo: falling back to the file build \(no VM\)\./,
    );
    assert.doesNotMatch(demo.stdout, /preparing the demo guest/);
    await assertFileDemo(dir, demo.stdout);
  });
});

Deno.test("kiln demo --file runs the file build without looking for qemu", async () => {
  await withTempDir(async (dir) => {
    const demo = await kiln(["demo", "--file", "--output-dir=out"], dir);
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    assert.doesNotMatch(demo.stdout, /qemu/);
    await assertFileDemo(dir, demo.stdout);
  });
});

Deno.test("kiln demo's flags: --output-dir and --file are its own, the rest goes to build", () => {
  assert.deepEqual(parseDemoArgs(["--file", "-output-dir=x", "-on-error=abort"]), {
    outDir: "x",
    fileOnly: true,
    rest: ["-on-error=abort"],
  });
  assert.throws(() => parseDemoArgs(["--output-dir"]), /needs a directory/);
});
