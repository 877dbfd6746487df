/**
 * The run's temp directory in a user's TMPDIR is reached through the link
 * `runs/<id>/tmp`, which a copied or forged run directory could aim at
 * anything: the sweep removes only a directory kiln made (named after the
 * run, ours, 0700, holding the mark kiln wrote naming the run) — also after
 * TMPDIR changed — never what the link merely points at.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";

const PROBE = new URL("./support/run_temp_probe.ts", import.meta.url).pathname;
const RUN_ID = "20261207T120000Z-abc123";

async function sweep(runDir: string, tmpdir: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROBE, runDir],
    env: { TMPDIR: tmpdir },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

Deno.test("a run's tmp link: only kiln's own directory in the current TMPDIR is swept", async () => {
  await withTempDir(async (root) => {
    const tmpdir = join(root, "tmpdir");
    const elsewhere = join(root, "projects");
    await Deno.mkdir(tmpdir);
    await Deno.mkdir(elsewhere);
    const runDir = join(root, "runs", RUN_ID);
    await Deno.mkdir(runDir, { recursive: true });
    const link = join(runDir, "tmp");
    const named = `kiln-${RUN_ID}-0a1b2c3d`;

    const keep = async (target: string, why: string) => {
      await Deno.writeTextFile(join(target, "keep.txt"), "mine");
      await Deno.symlink(target, link);
      await sweep(runDir, tmpdir);
      assert.equal(await exists(join(target, "keep.txt")), true, why);
      assert.equal(await exists(link), false, "the link itself is the run's and goes");
    };
    // The right name and mode, in TMPDIR, but no mark: a user's directory.
    const unmarked = join(tmpdir, named);
    await Deno.mkdir(unmarked, { mode: 0o700 });
    await keep(unmarked, "removed a directory without kiln's mark");
    // Marked for another run.
    await Deno.writeTextFile(join(unmarked, ".kiln-run-temp"), "20990101T000000Z-ffffff\n");
    await keep(unmarked, "removed a directory marked for another run");
    // Marked for this run, but 0755: not as kiln makes it.
    const loose = join(elsewhere, named);
    await Deno.mkdir(loose);
    await Deno.chmod(loose, 0o755);
    await Deno.writeTextFile(join(loose, ".kiln-run-temp"), `${RUN_ID}\n`);
    await keep(loose, "removed a 0755 directory");

    // What kiln makes, even in a TMPDIR other than today's: swept with its contents.
    await Deno.chmod(loose, 0o700);
    await Deno.symlink(loose, link);
    await sweep(runDir, tmpdir);
    assert.equal(await exists(loose), false, "kiln's own temp directory was left");
    assert.equal(await exists(link), false);
  });
});
