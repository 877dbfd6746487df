/**
 * Builds that fail alone, as in Packer 1.6.6 (run side by side here): a
 * builder type kiln lacks fails its build at build time while the others
 * run, and a manifest whose directory is missing fails its build. The run
 * stays coherent: `--resume` retries only what failed, `cleanup` and
 * `replay` accept it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { runKiln } from "../support/kiln_cli.ts";

async function packer(args: string[], cwd: string): Promise<{ code: number; stdout: string }> {
  const out = await new Deno.Command("packer", {
    args,
    cwd,
    env: { PACKER_NO_COLOR: "1", CHECKPOINT_DISABLE: "1", HOME: cwd, PATH: "/usr/bin:/bin" },
    stdin: "null",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

/** The outline of a build's output: who finished or errored, the summary; errors and times cut. */
function outline(stdout: string): string[] {
  return stdout.split("\n")
    .filter((l) => /^(Build '|==> (?!Run )|--> )/.test(l))
    .map((l) =>
      l.replace(/ (errored|finished|completed) after .*/, " $1")
        .replace(/^(--> [^:]+: )(?!Did not export).*/, "$1ERROR")
        .replace(
          /^==> null: Running local shell script: .*/,
          "==> null: Running local shell script",
        )
    );
}

Deno.test("a builder type kiln lacks fails alone at build time; the other build runs; validate reports it", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "t.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        builders: [
          {
            type: "virtualbox-iso",
            iso_url: "http://127.0.0.1:9/x.iso",
            iso_checksum: "none",
            ssh_username: "u",
          },
          { type: "null", communicator: "none" },
        ],
        provisioners: [{ type: "shell-local", inline: ["echo hello from {{build_name}}"] }],
      }),
    );
    const home = join(dir, ".kiln");
    const [kiln, reference, validate] = await Promise.all([
      runKiln(["build", file], { cwd: dir, home }),
      packer(["build", file], dir),
      runKiln(["validate", file], { cwd: dir }),
    ]);
    assert.equal(reference.code, 1, reference.stdout);
    assert.equal(kiln.code, 1, kiln.stdout + kiln.stderr);
    // Sorted: the two builds run in parallel, so which ends first is up to the machine's load.
    assert.deepEqual(outline(kiln.stdout).sort(), outline(reference.stdout).sort());
    assert.match(kiln.stdout, /null: hello from null/);
    assert.match(kiln.stdout, /--> virtualbox-iso: unknown builder type "virtualbox-iso"/);

    assert.equal(validate.code, 1);
    assert.match(
      validate.stderr,
      /t\.json:\d+:\d+: builders\[0\]\.type: unknown builder type "virtualbox-iso"/,
    );

    // The run's log stays whole: resume retries only the failed build; replay and cleanup accept it.
    const id = /kiln: run (\S+) /.exec(kiln.stderr)![1];
    const resumed = await runKiln(["build", "--resume", id], { cwd: dir, home });
    assert.equal(resumed.code, 1, resumed.stdout + resumed.stderr);
    assert.match(resumed.stdout, /Build 'virtualbox-iso' errored/);
    assert.doesNotMatch(resumed.stdout, /hello from null/, "the succeeded build ran again");
    const [replay, cleanup] = await Promise.all([
      runKiln(["replay", id], { cwd: dir, home }),
      runKiln(["cleanup", id], { cwd: dir, home }),
    ]);
    assert.equal(replay.code, 0, replay.stdout + replay.stderr);
    assert.match(replay.stderr, /sealed log verified/);
    assert.equal(cleanup.code, 0, cleanup.stdout + cleanup.stderr);
  });
});

Deno.test("kiln cleanup reads such a run's template as build did: the other build's file is deleted", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "t.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        builders: [
          { type: "virtualbox-iso", iso_url: "http://127.0.0.1:9/x.iso", iso_checksum: "none" },
          { type: "file", target: "out/f.txt", content: "made by the run" },
        ],
        provisioners: [{ type: "shell-local", inline: ["exit 1"] }],
      }),
    );
    const home = join(dir, ".kiln");
    // -on-error=abort leaves the file build's output for cleanup.
    const build = await runKiln(["build", "-on-error=abort", file], { cwd: dir, home });
    assert.equal(build.code, 1, build.stdout + build.stderr);
    const output = join(dir, "out", "f.txt");
    assert.equal(await Deno.readTextFile(output), "made by the run");
    const id = /kiln: run (\S+) /.exec(build.stderr)![1];
    const cleanup = await runKiln(["cleanup", id], { cwd: dir, home });
    assert.equal(cleanup.code, 0, cleanup.stdout + cleanup.stderr);
    assert.match(cleanup.stdout, /1 deleted, 0 failed/);
    assert.throws(() => Deno.statSync(output), Deno.errors.NotFound);
  });
});

Deno.test("HCL2: a source of a type kiln lacks fails its build alone too; validate reports it", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "t.pkr.hcl");
    await Deno.writeTextFile(
      file,
      `source "virtualbox-iso" "vb" {
  iso_url      = "http://127.0.0.1:9/x.iso"
  iso_checksum = "none"
}
source "null" "n" {
  communicator = "none"
}
build {
  sources = ["source.virtualbox-iso.vb", "source.null.n"]
  provisioner "shell-local" {
    inline = ["echo hello from \${source.name}"]
  }
}
`,
    );
    const [build, validate] = await Promise.all([
      runKiln(["build", file], { cwd: dir, home: join(dir, ".kiln") }),
      runKiln(["validate", file], { cwd: dir }),
    ]);
    assert.equal(build.code, 1, build.stdout + build.stderr);
    assert.match(build.stdout, /Build 'virtualbox-iso\.vb' errored after .*: unknown builder type/);
    assert.match(build.stdout, /null\.n: hello from n/);
    assert.match(build.stdout, /--> null\.n: Did not export anything/);
    assert.equal(validate.code, 1);
    assert.match(validate.stderr, /t\.pkr\.hcl:1:8: Unknown builder type/);
  });
});

Deno.test("manifest into a missing directory fails the build, as Packer 1.6.6 (no directory is made)", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "t.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        "post-processors": [{ type: "manifest", output: "nodir/m.json" }],
      }),
    );
    const kilnDir = join(dir, "kiln");
    const packerDir = join(dir, "packer");
    await Promise.all([Deno.mkdir(kilnDir), Deno.mkdir(packerDir)]);
    const [kiln, reference] = await Promise.all([
      runKiln(["build", file], { cwd: kilnDir, home: join(dir, ".kiln") }),
      packer(["build", file], packerDir),
    ]);
    const said =
      "Post-processor failed: Unable to write nodir/m.json: open nodir/m.json: no such file or directory";
    assert.equal(reference.code, 1);
    assert.ok(reference.stdout.includes(said), reference.stdout);
    assert.equal(kiln.code, 1, kiln.stdout + kiln.stderr);
    assert.ok(kiln.stdout.includes(said), kiln.stdout);
    assert.match(kiln.stdout, /Some builds didn't complete successfully and had errors/);
    assert.throws(() => Deno.statSync(join(kilnDir, "nodir")), Deno.errors.NotFound);
  });
});
