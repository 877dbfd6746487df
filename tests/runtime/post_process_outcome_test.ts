/**
 * Post-processing is part of the build: Ctrl-C or SIGTERM during it undoes
 * the build as during provisioning (its outputs and the builder's artifact
 * go), and a failing post-processor's outputs follow `-on-error` — cleanup
 * deletes them, abort leaves them in the ledger for `kiln cleanup`, ask's
 * retry runs only that post-processor again. Real `kiln` processes, a real
 * compress of a large file, a real sleeping shell-local.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { fileLab } from "../support/file_lab.ts";
import { filesUnder, ledgerProblems } from "../support/ledger_honesty.ts";
import { watchKiln } from "../support/kiln_process.ts";
import { liveResources } from "../../runtime/fold.ts";
import { runBuild } from "../../runtime/run_build.ts";
import { prepareTemplate } from "../../template/mod.ts";
import { kilnComponents } from "../../components.ts";

/** `mib` MiB of random bytes (compress works hard on them). */
async function randomFile(path: string, mib: number): Promise<void> {
  using file = await Deno.open(path, { write: true, createNew: true });
  const block = new Uint8Array(1 << 20);
  for (let i = 0; i < mib; i++) {
    for (let off = 0; off < block.length; off += 65536) {
      crypto.getRandomValues(block.subarray(off, off + 65536));
    }
    for (let done = 0; done < block.length;) done += await file.write(block.subarray(done));
  }
}

async function waitForFile(path: string, minBytes: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const size = await Deno.lstat(path).then((i) => i.size, () => -1);
    if (size >= minBytes) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} never reached ${minBytes} bytes`);
}

function stop(process: Deno.ChildProcess): void {
  try {
    process.kill("SIGKILL");
  } catch {
    // Already exited.
  }
}

function runIdIn(text: string): string {
  const id = text.match(/\bkiln: run (\d{8}T\d{6}Z-[0-9a-f]+)/)?.[1];
  if (!id) throw new Error(`no run id in: ${text}`);
  return id;
}

Deno.test("SIGINT during a slow compress of a large file: the build is undone, nothing is left", async () => {
  await withTempDir(async (dir) => {
    const source = join(dir, "big.bin");
    await randomFile(source, 128);
    const lab = await fileLab(dir, (out) => ({
      builders: [{ type: "file", source, target: join(out, "disk.img") }],
      "post-processors": [{ type: "compress", output: join(out, "disk.tar.gz") }],
    }));
    const kiln = watchKiln(["build", lab.file], { cwd: dir, home: lab.home });
    try {
      await kiln.waitFor(/Tarring .*disk\.tar\.gz with gzip/);
      const runId = runIdIn(kiln.output());
      await waitForFile(join(lab.out, `disk.tar.gz.kiln-${runId}-file.partial`), 1 << 20);
      const signalled = performance.now();
      kiln.process.kill("SIGINT");
      const status = await kiln.done();
      assert.equal(status.code, 130, kiln.output());
      assert.ok(performance.now() - signalled < 15_000, "the compress stopped promptly");
      assert.match(kiln.output(), /Build 'file' errored after .*: Build was cancelled\./);
      assert.deepEqual([...await filesUnder([lab.out])], [], "archive, partial and target gone");
      assert.ok((await Deno.lstat(source)).isFile, "the source is the user's");
      const state = await lab.state(runId);
      assert.equal(state.builds.file.status, "cancelled");
      assert.deepEqual(liveResources(state.builds.file), []);
      assert.deepEqual(await lab.honesty(runId), []);
    } finally {
      stop(kiln.process);
      await kiln.done();
    }
  });
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`${signal} during a sleeping shell-local post-processor compensates the build`, async () => {
    await withTempDir(async (dir) => {
      const lab = await fileLab(dir, (out) => ({
        builders: [{ type: "file", content: "disk\n", target: join(out, "disk.img") }],
        "post-processors": [[
          { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
          { type: "checksum", checksum_types: ["sha256"], output: join(out, "disk.sum") },
          { type: "manifest", output: join(out, "manifest.json") },
          { type: "shell-local", inline: ["echo pp-sleeping", "sleep 30"] },
        ]],
      }));
      const kiln = watchKiln(["build", "-on-error=abort", lab.file], {
        cwd: dir,
        home: lab.home,
      });
      try {
        await kiln.waitFor(/pp-sleeping/);
        assert.equal((await filesUnder([lab.out])).size, 4, "target, archive, sum, manifest");
        kiln.process.kill(signal);
        const status = await kiln.done();
        assert.equal(status.code, 130, kiln.output());
        const runId = runIdIn(kiln.output());
        assert.deepEqual([...await filesUnder([lab.out])], [], "even with -on-error=abort");
        assert.deepEqual(await lab.honesty(runId), []);
        assert.equal((await lab.state(runId)).builds.file.status, "cancelled");
      } finally {
        stop(kiln.process);
        await kiln.done();
      }
    });
  });
}

/** compress, then a shell-local that fails (while `flag` exists, once if `once`). */
function failingChain(flag: string, once = false) {
  return (out: string) => ({
    builders: [{ type: "file", content: "disk\n", target: join(out, "disk.img") }],
    "post-processors": [[
      { type: "compress", output: join(out, "disk.tar.gz"), keep_input_artifact: true },
      {
        type: "shell-local",
        inline: [
          `echo ran >> ${flag}.count`,
          `if [ -e ${flag} ]; then ${once ? `rm ${flag}; ` : ""}exit 3; fi`,
        ],
      },
    ]],
  });
}

Deno.test("a failing post-processor with -on-error=cleanup: its chain's outputs and the artifact go", async () => {
  await withTempDir(async (dir) => {
    const flag = join(dir, "fail");
    await Deno.writeTextFile(flag, "");
    const lab = await fileLab(dir, failingChain(flag));
    const run = await lab.build();
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, /Post-processor failed: .*exit status: 3/);
    assert.match(run.stdout, /Deleted .*disk\.tar\.gz/);
    assert.deepEqual([...await filesUnder([lab.out])], []);
    assert.deepEqual(await lab.honesty(lab.runIdOf(run)), []);
  });
});

Deno.test("a failing post-processor with -on-error=abort: outputs stay in the ledger for cleanup", async () => {
  await withTempDir(async (dir) => {
    const flag = join(dir, "fail");
    await Deno.writeTextFile(flag, "");
    const lab = await fileLab(dir, failingChain(flag));
    const run = await lab.build(["-on-error=abort"]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, /Leaving 2 resource\(s\) for debugging \(-on-error=abort\)/);
    const runId = lab.runIdOf(run);
    assert.equal((await filesUnder([lab.out])).size, 2);
    assert.deepEqual(await lab.honesty(runId), []);
    const clean = await lab.kiln(["cleanup", runId]);
    assert.equal(clean.code, 0, clean.stdout);
    assert.match(clean.stdout, /Cleanup of \S+: 2 deleted, 0 failed/);
    assert.deepEqual([...await filesUnder([lab.out])], []);
    assert.deepEqual(await lab.honesty(runId), []);
  });
});

Deno.test("-on-error=ask, retry: only the failed post-processor runs again", async () => {
  await withTempDir(async (dir) => {
    const flag = join(dir, "fail");
    await Deno.writeTextFile(flag, "");
    const lab = await fileLab(dir, failingChain(flag, true));
    const prepared = await prepareTemplate(lab.file, {}, { registry: kilnComponents });
    const questions: string[] = [];
    const lines: string[] = [];
    const result = await runBuild(prepared, {
      components: kilnComponents,
      home: lab.home,
      onError: "ask",
      ask: (q) => {
        questions.push(q);
        return Promise.resolve("r");
      },
      output: (text) => void lines.push(text),
      color: false,
    });
    assert.equal(result.status, "succeeded", lines.join(""));
    assert.equal(questions.length, 1);
    assert.match(questions[0], /\[r\] retry post-processor/);
    assert.equal(await Deno.readTextFile(`${flag}.count`), "ran\nran\n");
    assert.equal(lines.join("").match(/Archive .*disk\.tar\.gz completed/g)?.length, 1);
    assert.equal((await filesUnder([lab.out])).size, 2);
    assert.deepEqual(
      await ledgerProblems(lab.home, result.runId, { watch: [lab.out], before: lab.before }),
      [],
    );
  });
});
