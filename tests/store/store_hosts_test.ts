/**
 * A run resumed or cleaned up on another machine leaves the first
 * machine's files and processes alone: whatever this machine finds at the
 * same path or pid is not what the run made. (Both runners are on this
 * machine here; KILN_HOST tells them apart, as it does for containers that
 * share a machine id.)
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runIdOf, startStoreLab } from "../support/store_lab.ts";

Deno.test("cleanup on another machine leaves the file the run made on the first machine where it is", async () => {
  const lab = await startStoreLab();
  try {
    const template = join(lab.dir, "file.json");
    const target = join(lab.dir, "out.txt");
    await Deno.writeTextFile(
      template,
      JSON.stringify({
        builders: [{ type: "file", target, content: "made on runner a" }],
        provisioners: [{ type: "shell-local", inline: ["exit 1"] }],
      }),
    );
    const a = await lab.kiln("a", ["build", "-on-error=abort", template], {
      KILN_HOST: "runner-a",
    });
    assert.notEqual(a.code, 0);
    assert.ok(existsSync(target));
    const id = runIdOf(a.stdout + a.stderr);

    const b = await lab.kiln("b", ["cleanup", id], { KILN_HOST: "runner-b" });
    assert.match(b.stdout + b.stderr, /made on runner-a \(runner-a\), not on this machine/);
    assert.equal(await Deno.readTextFile(target), "made on runner a", "the file is left alone");

    // On the machine that made it, cleanup would have deleted it: the same check, another host.
    const again = await lab.kiln("a2", ["build", "-on-error=abort", template], {
      KILN_HOST: "runner-a",
    });
    const id2 = runIdOf(again.stdout + again.stderr);
    await Deno.remove(target).catch(() => {});
    const sameHost = await lab.kiln("a3", ["cleanup", id2], { KILN_HOST: "runner-a" });
    assert.equal(sameHost.code, 0, sameHost.stderr + sameHost.stdout);
    assert.doesNotMatch(sameHost.stdout, /not on this machine/);
  } finally {
    await lab.close();
  }
});

Deno.test("a resume on another machine does not signal the first machine's leftover processes", async () => {
  const lab = await startStoreLab();
  const pidFile = join(lab.dir, "sleeper.pid");
  try {
    const template = join(lab.dir, "sleeper.json");
    await Deno.writeTextFile(
      template,
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [
          { type: "shell-local", inline: [`echo $$ > ${pidFile}`, "echo started", "sleep 60"] },
        ],
      }),
    );
    const a = lab.watch("a", ["build", template], { KILN_HOST: "runner-a" });
    await a.waitFor(/started/);
    const id = runIdOf(a.output());
    a.process.kill("SIGKILL");
    await a.done();
    const pid = Number((await Deno.readTextFile(pidFile)).trim());
    const alive = () => existsSync(`/proc/${pid}`);
    assert.ok(alive());
    const b = await lab.kiln("b", ["cleanup", id], { KILN_HOST: "runner-b" });
    assert.match(b.stdout + b.stderr, /made on runner-a .*not on this machine/);
    assert.ok(alive(), "runner b signalled a process of runner a's machine");
  } finally {
    try {
      Deno.kill(-Number((await Deno.readTextFile(pidFile)).trim()), "SIGKILL");
    } catch {
      // Gone already.
    }
    await lab.close();
  }
});

Deno.test("two runners of one machine sharing a TMPDIR: the second resumes the first's dead run", async () => {
  const lab = await startStoreLab();
  try {
    const tmp = join(lab.dir, "shared-tmp");
    await Deno.mkdir(tmp);
    const template = join(lab.dir, "t.json");
    await Deno.writeTextFile(
      template,
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }],
        provisioners: [
          { type: "shell-local", inline: ["echo one"] },
          { type: "shell-local", inline: ["echo two"] },
        ],
      }),
    );
    const a = await lab.kiln("a", ["build", template], {
      TMPDIR: tmp,
      KILN_CRASH_AFTER: "ProvisionerSucceeded",
    });
    assert.equal(a.signal, "SIGKILL");
    const id = runIdOf(a.stdout + a.stderr);
    const b = await lab.kiln("b", ["build", "--resume", id], { TMPDIR: tmp });
    assert.equal(b.code, 0, b.stderr + b.stdout);
  } finally {
    await lab.close();
  }
});
