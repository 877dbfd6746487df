/**
 * Ctrl-C during a shell-local command, to a real `kiln build`: the command's
 * whole process tree (the shell, its `sleep`, a job it put in the
 * background) is gone by the time kiln has exited, for the provisioner and
 * the post-processor alike.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { watchKiln } from "../support/kiln_process.ts";
import { alive, goneWithin } from "../support/processes.ts";

/** Records the shell's pid, a background job's and its own foreground sleep's, then waits. */
function slowScript(pidFile: string): string[] {
  return [
    `sleep 60 & echo "$$ $!" > ${pidFile}`,
    `sleep 30 & echo "$!" >> ${pidFile}`,
    "echo kiln-slow-step-started",
    "wait",
  ];
}

for (const where of ["provisioners", "post-processors"] as const) {
  Deno.test(`SIGINT during a shell-local ${where.slice(0, -1)} leaves no process behind`, async () => {
    await withTempDir(async (dir) => {
      const pidFile = join(dir, "pids");
      const step = { type: "shell-local", inline: slowScript(pidFile) };
      const template = {
        builders: [{ type: "file", content: "x", target: join(dir, "out.txt") }],
        [where]: [step],
      };
      await Deno.writeTextFile(join(dir, "t.json"), JSON.stringify(template));
      const kiln = watchKiln(["build", "t.json"], { cwd: dir, home: join(dir, "home") });
      try {
        await kiln.waitFor(/kiln-slow-step-started/);
        const pids = (await Deno.readTextFile(pidFile)).trim().split(/\s+/).map(Number);
        assert.equal(pids.length, 3, `pids: ${pids}`);
        for (const pid of pids) assert.ok(await alive(pid), `process ${pid} runs before SIGINT`);
        kiln.process.kill("SIGINT");
        const status = await kiln.done();
        assert.equal(status.code, 130, kiln.output());
        for (const pid of pids) {
          assert.ok(await goneWithin(pid), `process ${pid} outlived kiln`);
        }
      } finally {
        try {
          kiln.process.kill("SIGKILL");
        } catch {
          // Already exited.
        }
        await kiln.done();
      }
    });
  });
}
