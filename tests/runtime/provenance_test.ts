/**
 * Provenance before deletion, through real `kiln` processes on real files:
 * a failed build, a crash or `kiln cleanup` deletes a path only while it is
 * provably the one the run made and one its template could produce. The
 * user's file at a target, a file swapped in after the run, a planted
 * symlink, a forged ledger entry: each is left alone, and said so.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { fileLab } from "../support/file_lab.ts";
import { filesUnder } from "../support/ledger_honesty.ts";
import { EventLog } from "../../runtime/event_log.ts";
import { Masker } from "../../runtime/masker.ts";
import { identityOf } from "../../runtime/local_identity.ts";
import { cleanupRun } from "../../runtime/cleanup.ts";
import { prepareTemplate } from "../../template/mod.ts";
import { liveResources } from "../../runtime/fold.ts";
import { kilnRegistry } from "../../registry.ts";

const PRECIOUS = "PRECIOUS\n";

function missingSource(out: string) {
  return {
    builders: [{ type: "file", source: "does-not-exist.img", target: join(out, "disk.img") }],
  };
}

const plantPrecious = (out: string) => Deno.writeTextFile(join(out, "disk.img"), PRECIOUS);

Deno.test("a failed build leaves the user's file at its target (Packer does too)", async () => {
  await withTempDir(async (dir) => {
    const lab = await fileLab(dir, missingSource, plantPrecious);
    const run = await lab.build();
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, /open does-not-exist\.img: no such file or directory/);
    assert.doesNotMatch(run.stdout, /Deleted/);
    assert.doesNotMatch(
      run.stdout,
      /Copying/,
      "as Packer: nothing is said before the source opens",
    );
    assert.equal(await Deno.readTextFile(join(lab.out, "disk.img")), PRECIOUS);
    assert.deepEqual(await lab.honesty(lab.runIdOf(run)), []);
  });
});

Deno.test("a crash right after the write-ahead intent, then cleanup: the user's file stays", async () => {
  for (
    const template of [missingSource, (out: string) => ({
      builders: [{ type: "file", content: "new\n", target: join(out, "disk.img") }],
    })]
  ) {
    await withTempDir(async (dir) => {
      const lab = await fileLab(dir, template, plantPrecious);
      const killed = await lab.build([], { KILN_CRASH_AFTER: "ResourceIntent" });
      assert.equal(killed.signal, "SIGKILL", killed.stderr);
      const runId = lab.runIdOf(killed);
      const clean = await lab.kiln(["cleanup", runId]);
      assert.equal(clean.code, 0, clean.stdout + clean.stderr);
      assert.doesNotMatch(clean.stdout, /Deleted/);
      assert.equal(await Deno.readTextFile(join(lab.out, "disk.img")), PRECIOUS);
      assert.deepEqual(await lab.honesty(runId), []);
    });
  }
});

/** A file build whose provisioner fails, kept with -on-error=abort for `kiln cleanup`. */
function failingBuild(out: string) {
  return {
    builders: [{ type: "file", content: "the run's\n", target: join(out, "disk.img") }],
    provisioners: [{ type: "shell-local", inline: ["exit 7"] }],
  };
}

Deno.test("a target replaced after the run: cleanup refuses, keeps it, and says so once", async () => {
  await withTempDir(async (dir) => {
    const lab = await fileLab(dir, failingBuild);
    const run = await lab.build(["-on-error=abort"]);
    assert.equal(run.code, 1);
    const runId = lab.runIdOf(run);
    const target = join(lab.out, "disk.img");
    assert.deepEqual(await lab.honesty(runId), [], "abort leaves the target live in the ledger");
    await Deno.remove(target);
    await Deno.writeTextFile(target, "the user's new disk\n");

    const clean = await lab.kiln(["cleanup", runId, "--json"]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    const result = JSON.parse(clean.stdout);
    assert.deepEqual(result.deleted, []);
    assert.deepEqual(result.refused.map((r: { id: string }) => r.id), [target]);
    assert.match(result.refused[0].reason, /changed since this run created it/);
    assert.equal(await Deno.readTextFile(target), "the user's new disk\n");

    const show = await lab.kiln(["runs", "show", runId]);
    assert.match(show.stdout, /released\s+file .*disk\.img — left alone: it changed since/);
    const again = await lab.kiln(["cleanup", runId]);
    assert.match(again.stdout, /Cleanup of \S+: 0 deleted, 0 failed/, "released: not retried");
    const state = await lab.state(runId);
    assert.deepEqual(liveResources(state.builds.file), []);
  });
});

Deno.test("a symlink planted at a ledger path is never followed: cleanup refuses it", async () => {
  await withTempDir(async (dir) => {
    const victim = join(dir, "victim.txt");
    await Deno.writeTextFile(victim, "not kiln's\n");
    const lab = await fileLab(dir, failingBuild);
    const run = await lab.build(["-on-error=abort"]);
    const runId = lab.runIdOf(run);
    const target = join(lab.out, "disk.img");
    await Deno.remove(target);
    await Deno.symlink(victim, target);
    const clean = await lab.kiln(["cleanup", runId]);
    assert.equal(clean.code, 0, clean.stdout);
    assert.match(clean.stdout, /disk\.img: it is now a symbolic link, not the file this run made/);
    assert.match(clean.stdout, /0 deleted, 1 refused \(left alone\), 0 failed/);
    assert.equal(await Deno.readTextFile(victim), "not kiln's\n");
    assert.equal((await Deno.lstat(target)).isSymlink, true);
  });
});

Deno.test("a symlink at an output path before the run: its target is never written or deleted", async () => {
  await withTempDir(async (dir) => {
    const victim = join(dir, "victim.txt");
    await Deno.writeTextFile(victim, "not kiln's\n");
    const lab = await fileLab(dir, (out) => ({
      builders: [{ type: "file", content: "the run's\n", target: join(out, "disk.img") }],
      "post-processors": [[
        { type: "compress", output: join(out, "disk.tar.gz") },
        { type: "shell-local", inline: ["exit 5"] },
      ]],
    }), async (out) => {
      await Deno.symlink(victim, join(out, "disk.img"));
      await Deno.symlink(victim, join(out, "disk.tar.gz"));
    });
    const run = await lab.build();
    assert.equal(run.code, 1, run.stdout);
    assert.equal(await Deno.readTextFile(victim), "not kiln's\n");
    // Both paths existed before the run: replaced (never written through), and not the run's to delete.
    assert.equal((await Deno.lstat(join(lab.out, "disk.tar.gz"))).isFile, true);
    assert.deepEqual(await lab.honesty(lab.runIdOf(run)), []);
  });
});

Deno.test("a ledger entry outside the template's outputs is refused and reported, never deleted", async () => {
  await withTempDir(async (dir) => {
    const lab = await fileLab(dir, failingBuild);
    const run = await lab.build(["-on-error=abort"]);
    const runId = lab.runIdOf(run);
    const precious = join(dir, "precious");
    await Deno.mkdir(precious);
    await Deno.writeTextFile(join(precious, "thesis.tex"), "years of work\n");
    const stray = join(dir, "stray.txt");
    await Deno.writeTextFile(stray, "mine\n");
    // Forged through the writer, with identities copied from the real objects.
    const { log } = await EventLog.open(runId, lab.home, new Masker());
    const forged = (kind: string, path: string, data: Record<string, unknown>) =>
      log.append({ build: "file", type: "ResourceCreated", data: { kind, id: path, data } });
    forged("post-processor.output", precious, {
      path: precious,
      identity: await identityOf(precious),
      createdByRun: true,
    });
    forged("file", stray, { path: stray, identity: await identityOf(stray) });
    const target = join(lab.out, "disk.img");
    forged("file", target, { path: precious, identity: await identityOf(target) });
    log.close();

    const prepared = await prepareTemplate(lab.file, {}, { registry: kilnRegistry });
    const lines: string[] = [];
    const result = await cleanupRun(runId, {
      components: kilnRegistry,
      home: lab.home,
      prepared,
      output: (text: string) => void lines.push(text),
      color: false,
    });
    assert.deepEqual(result.failed, []);
    const refused = Object.fromEntries(result.refused.map((r) => [r.id, r.reason]));
    assert.match(refused[precious], /is not an output of run \S+'s template/);
    assert.match(refused[stray], /is not an output of run \S+'s template/);
    assert.match(refused[target], /names two paths/);
    assert.equal(await Deno.readTextFile(join(precious, "thesis.tex")), "years of work\n");
    assert.equal(await Deno.readTextFile(stray), "mine\n");
    assert.match(lines.join(""), new RegExp(`${precious}: .*not an output.*: left alone`));
  });
});

Deno.test("directories: one the run made goes whole; in an older one, only the run's files", async () => {
  await withTempDir(async (dir) => {
    const lab = await fileLab(dir, (out) => ({
      builders: [{ type: "file", content: "x\n", target: join(out, "disk.img") }],
      provisioners: [{
        type: "shell-local",
        inline: [
          `mkdir -p ${out}/vm/disks && echo a > ${out}/vm/disks/a.img && echo b > ${out}/vm/b.vmx`,
          `mkdir -p ${out}/old/new-sub && echo new > ${out}/old/new.txt && echo s > ${out}/old/new-sub/s`,
        ],
      }],
      "post-processors": [[
        { type: "artifice", files: [join(out, "vm"), join(out, "old")] },
        { type: "shell-local", inline: ["exit 9"] },
      ]],
    }), async (out) => {
      await Deno.mkdir(join(out, "old"));
      await Deno.writeTextFile(join(out, "old", "user.txt"), "the user's\n");
    });
    const run = await lab.build();
    assert.equal(run.code, 1, run.stdout);
    const left = [...await filesUnder([lab.out])];
    assert.deepEqual(left, [join(lab.out, "old", "user.txt")]);
    await assert.rejects(() => Deno.lstat(join(lab.out, "vm")), Deno.errors.NotFound);
    assert.ok((await Deno.lstat(join(lab.out, "old"))).isDirectory);
    assert.deepEqual(await lab.honesty(lab.runIdOf(run)), []);
  });
});

Deno.test("a directory the run made, replaced after the run: cleanup leaves the new one alone", async () => {
  await withTempDir(async (dir) => {
    const lab = await fileLab(dir, (out) => ({
      builders: [{ type: "file", content: "x\n", target: join(out, "disk.img") }],
      provisioners: [{ type: "shell-local", inline: [`mkdir ${out}/vm && echo a > ${out}/vm/a`] }],
      "post-processors": [[
        { type: "artifice", files: [join(out, "vm")] },
        { type: "shell-local", inline: ["exit 9"] },
      ]],
    }));
    const run = await lab.build(["-on-error=abort"]);
    const runId = lab.runIdOf(run);
    await Deno.remove(join(lab.out, "vm"), { recursive: true });
    await Deno.mkdir(join(lab.out, "vm"));
    await Deno.writeTextFile(join(lab.out, "vm", "mine"), "the user's\n");
    const clean = await lab.kiln(["cleanup", runId, "--json"]);
    const result = JSON.parse(clean.stdout);
    assert.deepEqual(result.refused.map((r: { id: string }) => r.id), [join(lab.out, "vm")]);
    assert.equal(await Deno.readTextFile(join(lab.out, "vm", "mine")), "the user's\n");
    await assert.rejects(() => Deno.lstat(join(lab.out, "disk.img")), Deno.errors.NotFound);
  });
});

Deno.test("one manifest shared by two builds: both own it, and one build's failure keeps it for the other", async () => {
  for (const fail of [false, true]) {
    await withTempDir(async (dir) => {
      const lab = await fileLab(dir, (out) => ({
        builders: ["a", "b"].map((name) => ({
          type: "file",
          name,
          content: `${name}\n`,
          target: join(out, `${name}.img`),
        })),
        "post-processors": [[
          { type: "manifest", output: join(out, "manifest.json") },
          ...(fail ? [{ type: "shell-local", only: ["b"], inline: ["exit 2"] }] : []),
        ]],
      }));
      const run = await lab.build();
      assert.equal(run.code, fail ? 1 : 0, run.stdout);
      const runId = lab.runIdOf(run);
      assert.deepEqual(await lab.honesty(runId), []);
      const state = await lab.state(runId);
      const owners = Object.values(state.builds).filter((b) =>
        liveResources(b).some((e) => e.resource.id === join(lab.out, "manifest.json"))
      ).map((b) => b.name);
      assert.deepEqual(owners.sort(), fail ? ["a"] : ["a", "b"]);
      if (fail) {
        // b failed and undid what it made; a's results, the shared manifest among them, stay.
        assert.deepEqual(
          [...await filesUnder([lab.out])].sort(),
          [join(lab.out, "a.img"), join(lab.out, "manifest.json")],
        );
      }
    });
  }
});

Deno.test("without the run's template, cleanup cannot vouch for a path: it fails and keeps it for later", async () => {
  await withTempDir(async (dir) => {
    const lab = await fileLab(dir, failingBuild);
    const run = await lab.build(["-on-error=abort"]);
    const runId = lab.runIdOf(run);
    const target = join(lab.out, "disk.img");
    const template = await Deno.readTextFile(lab.file);
    await Deno.writeTextFile(lab.file, template.replace("exit 7", "exit 8"));
    const changed = await lab.kiln(["cleanup", runId]);
    assert.equal(changed.code, 1, changed.stdout);
    assert.match(changed.stdout, /template\.json changed since the run\); kept in the ledger/);
    assert.equal(await Deno.readTextFile(target), "the run's\n");
    await Deno.writeTextFile(lab.file, template);
    const restored = await lab.kiln(["cleanup", runId]);
    assert.equal(restored.code, 0, restored.stdout);
    assert.match(restored.stdout, new RegExp(`Deleted ${target}\\n`));
    await assert.rejects(() => Deno.lstat(target), Deno.errors.NotFound);
    assert.deepEqual(await lab.honesty(runId), []);
  });
});
