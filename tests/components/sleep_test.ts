/**
 * The `sleep` provisioner through a real `kiln build`: it waits as long as
 * its `duration` says, Ctrl-C ends a long sleep at once (exit 130, the run
 * recorded as cancelled with the provisioners before it done), and a bad
 * duration is refused by `validate` with its JSON path, as Packer refuses it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { watchKiln } from "../support/kiln_process.ts";
import { runKiln } from "../support/kiln_cli.ts";

const echo = (text: string) => ({ type: "shell-local", inline: [`echo ${text}`] });

Deno.test("sleep waits its duration, and SIGINT interrupts a long one", async () => {
  await withTempDir(async (dir) => {
    const template = {
      builders: [{ type: "null", communicator: "none" }],
      provisioners: [
        echo("kiln-before-sleep"),
        { type: "sleep", duration: "1500ms" },
        echo("kiln-after-sleep"),
        { type: "sleep", duration: "1h" },
      ],
    };
    await Deno.writeTextFile(join(dir, "t.json"), JSON.stringify(template));
    const home = join(dir, "home");
    const kiln = watchKiln(["build", "t.json"], { cwd: dir, home });
    try {
      await kiln.waitFor(/kiln-before-sleep/);
      const before = performance.now();
      await kiln.waitFor(/kiln-after-sleep/);
      const slept = performance.now() - before;
      assert.ok(slept >= 1400, `slept only ${slept} ms of 1500`);
      // Now inside the hour-long sleep: Ctrl-C must end the build promptly.
      await new Promise((r) => setTimeout(r, 200));
      const sent = performance.now();
      kiln.process.kill("SIGINT");
      const status = await kiln.done();
      assert.equal(status.code, 130, kiln.output());
      assert.ok(performance.now() - sent < 15_000, "the sleep held the cancelled build");
    } finally {
      try {
        kiln.process.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await kiln.done();
    }
    const runs = await Array.fromAsync(Deno.readDir(join(home, "runs")));
    assert.equal(runs.length, 1);
    const shown = await runKiln(["runs", "show", runs[0].name], { cwd: dir, home });
    assert.match(shown.stdout, /: cancelled/);
    assert.match(shown.stdout, /provisioners done: #0, #1, #2\n/, shown.stdout);
  });
});

Deno.test("validate: a sleep's duration must be a Go duration; unknown keys are refused", async () => {
  await withTempDir(async (dir) => {
    const template = {
      builders: [{ type: "null", communicator: "none" }],
      provisioners: [
        { type: "sleep", duration: "10s" },
        { type: "sleep", duration: "ten seconds" },
        { type: "sleep", durations: "10s" },
      ],
    };
    await Deno.writeTextFile(join(dir, "t.json"), JSON.stringify(template, null, 2));
    const out = await runKiln(["validate", "t.json"], { cwd: dir });
    assert.equal(out.code, 1, out.stdout + out.stderr);
    const text = out.stdout + out.stderr;
    assert.match(text, /t\.json:\d+:\d+: provisioners\[1\]\.duration: expected a duration/);
    assert.match(text, /provisioners\[2\]\.durations: unknown configuration key/);
    assert.doesNotMatch(text, /provisioners\[0\]/);
  });
});
