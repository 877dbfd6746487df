/**
 * `kiln fmt` as a user drives it: exit codes, the names it prints, -diff,
 * directories with and without -recursive, -write=false and stdin. The
 * expected texts were recorded from Packer's `packer fmt` where it has the
 * feature (1.6.6 has no stdin or -recursive; those follow current Packer).
 */
import assert from "node:assert/strict";
import { CLI_PATH } from "../../support/kiln_cli.ts";
import { withTempDir } from "../helpers.ts";

/**
 * `kiln fmt` in its own process, started in `cwd`: the working directory is
 * process-wide, and test modules share the test runner's process, so a
 * chdir here would move every other module's child processes too.
 */
async function fmt(args: string[], cwd: string, stdin = "") {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI_PATH, "fmt", ...args],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const UGLY = 'a=1\nbb = "x"\n';
const PRETTY = 'a  = 1\nbb = "x"\n';

async function tree(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/sub/deeper`, { recursive: true });
  await Deno.writeTextFile(`${dir}/a.pkr.hcl`, UGLY);
  await Deno.writeTextFile(`${dir}/ok.pkr.hcl`, PRETTY);
  await Deno.writeTextFile(`${dir}/v.pkrvars.hcl`, "x=1\n");
  await Deno.writeTextFile(`${dir}/other.hcl`, UGLY);
  await Deno.writeTextFile(`${dir}/t.json`, '{"a":1}');
  await Deno.writeTextFile(`${dir}/sub/s.pkr.hcl`, UGLY);
  await Deno.writeTextFile(`${dir}/sub/deeper/d.pkr.hcl`, UGLY);
}

Deno.test("fmt -check: exit 3 and the names of unformatted files, nothing written; exit 0 when clean", async () => {
  await withTempDir(async (dir) => {
    await tree(dir);
    const r = await fmt(["-check", "."], dir);
    assert.deepEqual([r.code, r.stdout, r.stderr], [3, "a.pkr.hcl\nv.pkrvars.hcl\n", ""]);
    assert.equal(await Deno.readTextFile(`${dir}/a.pkr.hcl`), UGLY);
    const clean = await fmt(["-check", "ok.pkr.hcl"], dir);
    assert.deepEqual([clean.code, clean.stdout], [0, ""]);
  });
});

Deno.test("fmt on a directory rewrites its .pkr.hcl and .pkrvars.hcl files only, not subdirectories", async () => {
  await withTempDir(async (dir) => {
    await tree(dir);
    const r = await fmt([], dir);
    assert.deepEqual([r.code, r.stdout], [0, "a.pkr.hcl\nv.pkrvars.hcl\n"]);
    assert.equal(await Deno.readTextFile(`${dir}/a.pkr.hcl`), PRETTY);
    assert.equal(await Deno.readTextFile(`${dir}/v.pkrvars.hcl`), "x = 1\n");
    assert.equal(await Deno.readTextFile(`${dir}/other.hcl`), UGLY);
    assert.equal(await Deno.readTextFile(`${dir}/sub/s.pkr.hcl`), UGLY);
    // A second run has nothing left to do.
    assert.deepEqual(await fmt(["-check"], dir), { code: 0, stdout: "", stderr: "" });
  });
});

Deno.test("fmt -recursive descends into subdirectories and names files by their path", async () => {
  await withTempDir(async (dir) => {
    await tree(dir);
    const r = await fmt(["-recursive", "sub"], dir);
    assert.deepEqual([r.code, r.stdout], [0, "sub/deeper/d.pkr.hcl\nsub/s.pkr.hcl\n"]);
    assert.equal(await Deno.readTextFile(`${dir}/sub/deeper/d.pkr.hcl`), PRETTY);
    assert.equal(await Deno.readTextFile(`${dir}/a.pkr.hcl`), UGLY);
  });
});

Deno.test("fmt -diff prints Packer's unified diff; -write=false leaves the file alone", async () => {
  await withTempDir(async (dir) => {
    await tree(dir);
    // Recorded from `packer fmt -diff -write=false a.pkr.hcl` (Packer 1.6.6).
    const packer =
      "a.pkr.hcl\n--- old/a.pkr.hcl\n+++ new/a.pkr.hcl\n@@ -1,2 +1,2 @@\n-a=1\n+a  = 1\n" +
      ' bb = "x"\n';
    const r = await fmt(["-diff", "-write=false", "a.pkr.hcl"], dir);
    assert.deepEqual([r.code, r.stdout], [0, packer]);
    assert.equal(await Deno.readTextFile(`${dir}/a.pkr.hcl`), UGLY);
    const names = await fmt(["-write=false", "a.pkr.hcl"], dir);
    assert.deepEqual([names.code, names.stdout], [0, "a.pkr.hcl\n"]);
  });
});

Deno.test("fmt -diff marks a last line without a newline and keeps far-apart changes in separate hunks", async () => {
  await withTempDir(async (dir) => {
    const lines = ["a=1", ...Array.from({ length: 8 }, (_, i) => `k${i} {}`), "b=2"];
    await Deno.writeTextFile(`${dir}/x.pkr.hcl`, lines.join("\n"));
    const r = await fmt(["-diff", "x.pkr.hcl"], dir);
    // Same text as `diff -u` prints for this pair (checked against GNU diff 3.8).
    assert.equal(
      r.stdout,
      "x.pkr.hcl\n--- old/x.pkr.hcl\n+++ new/x.pkr.hcl\n@@ -1,4 +1,4 @@\n-a=1\n+a = 1\n k0 {}\n" +
        " k1 {}\n k2 {}\n@@ -7,4 +7,4 @@\n k5 {}\n k6 {}\n k7 {}\n-b=2\n\\ No newline at end of file\n" +
        "+b = 2\n\\ No newline at end of file\n",
    );
  });
});

Deno.test("fmt refuses a file that does not parse, with file:line:col, and leaves it alone", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/bad.pkr.hcl`, "a = 1\nb = [1,\n");
    await Deno.writeTextFile(`${dir}/good.pkr.hcl`, UGLY);
    const r = await fmt(["."], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /encountered an error while formatting bad\.pkr\.hcl/);
    assert.match(r.stderr, /bad\.pkr\.hcl:3:1: Invalid expression/);
    assert.equal(await Deno.readTextFile(`${dir}/bad.pkr.hcl`), "a = 1\nb = [1,\n");
    // The other files are still formatted.
    assert.equal(await Deno.readTextFile(`${dir}/good.pkr.hcl`), PRETTY);
    const notHcl = await fmt(["t.json"], dir);
    assert.equal(notHcl.code, 1);
    assert.match(notHcl.stderr, /file t\.json is not a HCL file/);
    const missing = await fmt(["nope.pkr.hcl"], dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /failed to read nope\.pkr\.hcl/);
  });
});

Deno.test("fmt - formats stdin to stdout; -check reports without printing", async () => {
  await withTempDir(async (dir) => {
    assert.deepEqual(await fmt(["-"], dir, UGLY), { code: 0, stdout: PRETTY, stderr: "" });
    assert.deepEqual(await fmt(["-"], dir, PRETTY), { code: 0, stdout: PRETTY, stderr: "" });
    assert.deepEqual(await fmt(["-check", "-"], dir, UGLY), { code: 3, stdout: "", stderr: "" });
  });
});

Deno.test("fmt usage: -help exits 0, an unknown flag or two targets exit 1", async () => {
  await withTempDir(async (dir) => {
    const help = await fmt(["-help"], dir);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: kiln fmt \[options\] \[TARGET\]/);
    const bad = await fmt(["-bogus"], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /flag provided but not defined: -bogus/);
    assert.equal((await fmt(["a", "b"], dir)).code, 1);
  });
});

Deno.test("as a process: kiln fmt - reads stdin and writes the formatted text", async () => {
  await withTempDir(async (dir) => {
    const out = await fmt(["-"], dir, "locals {\nx=[1,2]\n}\n");
    assert.equal(out.stderr, "");
    assert.equal(out.code, 0);
    assert.equal(out.stdout, "locals {\n  x = [1, 2]\n}\n");
  });
});
