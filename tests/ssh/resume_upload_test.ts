/**
 * A connection dropped in the middle of a file-provisioner upload during a
 * real `kiln build` (its own process, as a user runs it): the build fails with
 * a clear message and no stack trace, and `kiln build --resume <run-id>` after
 * the machine is back redoes only the upload — the shell provisioner before it
 * does not run again — and the file arrives whole.
 */
import { writeRandomFile } from "../support/random_file.ts";
import assert from "node:assert/strict";
import { CLI_PATH, runKiln } from "../support/kiln_cli.ts";
import { sha256File, startLab } from "./helpers.ts";

/** Large enough that a loopback upload takes a few hundred ms, so sshd can be stopped during it. */
const SIZE_MIB = 128;

/** Size of `path`, or -1 while it does not exist. */
async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return -1;
  }
}

for (const method of ["scp", "sftp"] as const) {
  Deno.test(`resume: a dropped upload (${method}) is redone alone on --resume`, async () => {
    const lab = await startLab();
    try {
      const d = lab.dir;
      const home = `${d}/kiln-home`;
      const source = `${d}/payload.bin`;
      const target = `${d}/remote/payload.bin`;
      await Deno.mkdir(`${d}/remote`);
      await writeRandomFile(source, SIZE_MIB);
      const template = {
        builders: [{
          type: "null",
          ...lab.config({ ssh_timeout: "10s", ssh_file_transfer_method: method }),
        }],
        provisioners: [
          { type: "shell", inline: [`echo ran >> ${d}/remote/counter`] },
          { type: "file", source, destination: target },
        ],
      };
      await Deno.writeTextFile(`${d}/template.json`, JSON.stringify(template));

      // First build: its own process, stopped mid-upload by taking sshd down.
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI_PATH, "build", "-on-error=abort", "template.json"],
        cwd: d,
        env: { KILN_HOME: home, NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = child.output();
      // The target grows as bytes land on the (loopback) machine: stop sshd once some
      // but not all of them are there, which cuts the session like a crash or a reboot.
      const deadline = Date.now() + 15_000;
      let seen = -1;
      while (Date.now() < deadline) {
        seen = await sizeOf(target);
        if (seen > 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      await lab.sshd.stop();
      const first = await output;
      const dec = new TextDecoder();
      const stdout = dec.decode(first.stdout);
      const stderr = dec.decode(first.stderr);
      const context = `stdout:\n${stdout}\nstderr:\n${stderr}`;
      assert.ok(seen > 0, `the upload never started\n${context}`);
      assert.ok((await sizeOf(target)) < SIZE_MIB << 20, `the upload finished first\n${context}`);
      assert.notEqual(first.code, 0, context);
      // A clear message naming the lost connection, and no stack trace anywhere.
      assert.match(stdout, /Upload failed: .*(connection (was )?lost|closed the channel)/, context);
      assert.doesNotMatch(stdout + stderr, /^\s+at .+:\d+:\d+\)?$/m, context);
      const runId = stderr.match(/kiln: run (\S+)/)?.[1];
      assert.ok(runId, `no run id on stderr\n${context}`);
      assert.equal(await Deno.readTextFile(`${d}/remote/counter`), "ran\n");

      // The machine is back: resuming redoes the upload, not the shell provisioner.
      await lab.sshd.start();
      const resumed = await runKiln(["build", "--resume", runId], { cwd: d, home });
      assert.equal(resumed.code, 0, `stdout:\n${resumed.stdout}\nstderr:\n${resumed.stderr}`);
      assert.equal(await Deno.readTextFile(`${d}/remote/counter`), "ran\n");
      assert.doesNotMatch(resumed.stdout, /Provisioning with shell script/);
      assert.match(resumed.stdout, /Uploading .*payload\.bin/);
      assert.equal(await sha256File(target), await sha256File(source));
    } finally {
      await lab.dispose();
    }
  });
}
