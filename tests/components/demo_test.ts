import assert from "node:assert/strict";
import { join } from "node:path";
import { sh, withTempDir } from "./support.ts";
import { runKiln } from "../support/kiln_cli.ts";

function kiln(args: string[], cwd: string) {
  return runKiln(args, { cwd, home: join(cwd, ".kiln") });
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
