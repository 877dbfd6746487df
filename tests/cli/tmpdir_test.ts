/**
 * TMPDIR is honoured: a run's temporary files (inline scripts here) live in
 * `$TMPDIR/kiln-<run id>/`, which goes when the command ends — and, after a
 * `kill -9`, when `kiln cleanup` sweeps the run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { watchKiln } from "../support/kiln_process.ts";

const listing = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name);

Deno.test("TMPDIR holds the run's temp files; they go at the end, and after kill -9 with cleanup", async () => {
  await withTempDir(async (dir) => {
    const tmp = join(dir, "user-tmp");
    await Deno.mkdir(tmp);
    const home = join(dir, ".kiln");
    const template = async (name: string, inline: string[]) => {
      const file = join(dir, name);
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          builders: [{ type: "null", communicator: "none" }],
          provisioners: [{ type: "shell-local", inline }],
        }),
      );
      return file;
    };
    const quick = await template("quick.json", ["echo TMP=$TMPDIR"]);
    const out = await runKiln(["build", quick], { cwd: dir, home, env: { TMPDIR: tmp } });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const script = /Running local shell script: (\S+)/.exec(out.stdout)?.[1] ?? "";
    assert.match(script, new RegExp(`^${tmp}/kiln-[^/]+/packer-shell`), out.stdout);
    assert.match(out.stdout, new RegExp(`TMP=${tmp}/kiln-`));
    assert.deepEqual(listing(tmp), [], "the run's temp dir outlived the run");

    // kill -9 while the script runs: the temp dir stays, until `kiln cleanup`.
    const slow = await template("slow.json", ["sleep 30"]);
    const killed = watchKiln(["build", slow], { cwd: dir, home, env: { TMPDIR: tmp } });
    await killed.waitFor(/packer-shell/);
    killed.process.kill("SIGKILL");
    await killed.done();
    const id = /kiln: run (\S+) /.exec(killed.output())![1];
    assert.equal(listing(tmp).length, 1);
    assert.match(listing(tmp)[0], new RegExp(`^kiln-${id}-[0-9a-f]{8}$`));
    const cleanup = await runKiln(["cleanup", id], { cwd: dir, home });
    assert.equal(cleanup.code, 0, cleanup.stdout + cleanup.stderr);
    assert.deepEqual(listing(tmp), [], "cleanup left the killed run's temp dir");
  });
});
