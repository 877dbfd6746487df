/**
 * The point of a shared store: a cloud build whose runner died is finished
 * or undone by another runner. The real kiln on the project's EC2 emulator
 * (instances are real sshd processes) with its log in the S3 store: one
 * runner is killed mid-provisioning; another resumes it over SSH with the
 * key the store kept encrypted, one instance ever launched; a second killed
 * run is cleaned up from a third runner, leaving nothing in EC2; the sweep
 * reads every run's status from the store.
 */
import assert from "node:assert/strict";
import { awsWorkspace, ebsTemplate, kiln, spawnKiln, writeTemplate } from "../aws/support.ts";
import { startStoreLab } from "../support/store_lab.ts";

Deno.test("a cloud build killed on one runner is resumed by another (one instance ever) or cleaned up by a third (nothing left); sweep reads the store", async () => {
  const ws = await awsWorkspace();
  const lab = await startStoreLab();
  try {
    const killedRun = async (runner: string) => {
      const template = await writeTemplate(
        ws,
        ebsTemplate(ws, { ami_name: `kiln-store-${runner}` }, [{
          type: "shell",
          inline: ["echo kiln-store-provisioning", "sleep 2", "echo kiln-store-done"],
        }]),
      );
      const { child, lines, stderr } = spawnKiln(ws, ["build", template], lab.env(runner));
      let output = "";
      let seen = false;
      for await (const line of lines) {
        output += line + "\n";
        if ((seen = line.includes("kiln-store-provisioning"))) break;
      }
      if (!seen) {
        assert.fail(`${runner}'s build ended before provisioning:\n${output}${await stderr}`);
      }
      try {
        child.kill("SIGKILL");
      } catch {
        // Ended by itself: the assertion below shows how.
      }
      const status = await child.status;
      for await (const line of lines) output += line + "\n";
      const errors = await stderr;
      assert.equal(
        status.signal,
        "SIGKILL",
        `${runner}'s build ended by itself:\n${output}${errors}`,
      );
      const runId = output.match(/\b(\d{8}T\d{6}Z-[0-9a-f]{6})\b/)?.[1];
      assert.ok(runId, output);
      return runId;
    };

    const first = await killedRun("a");
    const launches = () => ws.emulator.requests().filter((r) => r.action === "RunInstances").length;
    assert.equal(launches(), 1);
    const resumed = await kiln(ws, ["build", "--resume", first], lab.env("b"));
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.match(resumed.stdout, /kiln-store-done/);
    assert.match(resumed.stdout, /AMIs were created/);
    assert.equal(launches(), 1, "the resumed run reconnected to the first instance");

    const second = await killedRun("c");
    const sweep = (runner: string, ...flags: string[]) =>
      kiln(ws, ["sweep", "--region", "us-east-1", "--endpoint", ws.emulator.endpoint, ...flags], {
        ...lab.env(runner),
        AWS_ACCESS_KEY_ID: "AKIAKILNTEST00000001",
        AWS_SECRET_ACCESS_KEY: "kiln-test-secret",
        AWS_POLL_DELAY_SECONDS: "1",
      });
    // Runner d has never seen either run: the store tells it.
    const listed = await sweep("d", "-delete");
    assert.equal(listed.code, 0, listed.stdout + listed.stderr);
    assert.match(listed.stdout, new RegExp(`Run ${second}: (running|interrupted)`));
    assert.doesNotMatch(listed.stdout, /unknown/);
    assert.doesNotMatch(listed.stdout, /deleted:/);

    const cleaned = await kiln(ws, ["cleanup", second], lab.env("e"));
    assert.equal(cleaned.code, 0, cleaned.stdout + cleaned.stderr);
    const left = ws.emulator.leaks().filter((id) => !/^(ami|snap)-/.test(id));
    assert.deepEqual(left, [], "the second run's instance, key pair and group are gone");
    const after = await sweep("d");
    assert.match(after.stdout, /0 orphan\(s\)/);
  } finally {
    await lab.close();
    await ws.close();
  }
});
