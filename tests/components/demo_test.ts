import assert from "node:assert/strict";
import { join } from "node:path";
import { sh, withTempDir } from "./support.ts";

const cli = new URL("../../cli.ts", import.meta.url).pathname;

async function kiln(args: string[], cwd: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", cli, ...args],
    cwd,
    env: { KILN_HOME: join(cwd, ".kiln"), NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("kiln demo builds, checksums and records the example, then replays it", async () => {
  await withTempDir(async (dir) => {
    const demo = await kiln(["demo", "--output-dir", "out"], dir);
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    assert.match(demo.stdout, /site \(file\) says: Hello from kiln/);
    assert.match(demo.stdout, /checks \(null\) says: Hello from kiln/);
    const runId = /kiln replay (\S+?)`/.exec(demo.stdout)?.[1];
    assert.ok(runId, "the demo tells how to replay its run");

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
    assert.equal(manifest.last_run_uuid, runId);

    const replay = await kiln(["replay", runId], dir);
    assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  });
});
