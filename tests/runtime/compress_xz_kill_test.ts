/**
 * compress to .tar.xz runs the system `xz` as a child. A `kill -9` of kiln
 * mid-compress leaves the run's partial archive, which `kiln cleanup`
 * removes as for the other formats, and no xz process outlives kiln: xz
 * lives only through its pipes to kiln.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { fileLab } from "../support/file_lab.ts";
import { filesUnder } from "../support/ledger_honesty.ts";
import { watchKiln } from "../support/kiln_process.ts";
import { writeRandomFile } from "../support/random_file.ts";

/** Child processes of `pid` named `name`, from /proc. */
async function childrenNamed(pid: number, name: string): Promise<number[]> {
  const out: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid && comm === name) out.push(Number(entry.name));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

Deno.test("SIGKILL mid .tar.xz compress: the partial archive is the run's, cleanup removes it, xz exits", async () => {
  await withTempDir(async (dir) => {
    const source = join(dir, "big.bin");
    await writeRandomFile(source, 64);
    const lab = await fileLab(dir, (out) => ({
      builders: [{ type: "file", source, target: join(out, "disk.img") }],
      "post-processors": [{ type: "compress", output: join(out, "disk.tar.xz") }],
    }));
    const kiln = watchKiln(["build", lab.file], { cwd: dir, home: lab.home });
    let xz: number[] = [];
    try {
      await kiln.waitFor(/Tarring .*disk\.tar\.xz with xz/);
      const runId = kiln.output().match(/\bkiln: run (\d{8}T\d{6}Z-[0-9a-f]+)/)?.[1];
      assert.ok(runId, kiln.output());
      const partial = join(lab.out, `disk.tar.xz.kiln-${runId}-file.partial`);
      const until = Date.now() + 60_000;
      while ((await Deno.lstat(partial).then((i) => i.size, () => 0)) < 64 << 10) {
        assert.ok(Date.now() < until, "the partial archive never grew");
        await new Promise((r) => setTimeout(r, 20));
      }
      xz = await childrenNamed(kiln.process.pid, "xz");
      assert.equal(xz.length, 1, "kiln runs one xz");
      kiln.process.kill("SIGKILL");
      await kiln.done();
      assert.ok(await gone(xz[0], 10_000), "xz exits once kiln is gone");
      assert.ok((await Deno.lstat(partial)).size > 0, "the kill left the partial archive");

      const clean = await lab.kiln(["cleanup", runId]);
      assert.equal(clean.code, 0, clean.stdout + clean.stderr);
      assert.deepEqual([...await filesUnder([lab.out])], [], "partial and disk image removed");
      assert.ok((await Deno.lstat(source)).isFile, "the source is the user's");
    } finally {
      try {
        kiln.process.kill("SIGKILL");
      } catch { /* already exited */ }
      await kiln.done();
      for (const pid of xz) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone, as it should be */ }
      }
    }
  });
});
