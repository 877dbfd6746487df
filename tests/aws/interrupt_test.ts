/**
 * Issue 5's Ctrl-C and failed-provisioner acceptance: a real SIGINT to the
 * `kiln build` process while a provisioner runs on the instance, and a failing
 * provisioner with an error-cleanup-provisioner. Both must compensate and
 * leave nothing behind in the emulator.
 */
import assert from "node:assert/strict";
import {
  amazonTemplate,
  awsWorkspace,
  kiln,
  runEvents,
  spawnKiln,
  writeTemplate,
} from "./support.ts";

Deno.test("amazon-instance: Ctrl-C while a provisioner runs compensates and leaks nothing", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(
      ws,
      amazonTemplate(ws, {}, [{
        type: "shell",
        // Long enough never to finish on its own within the test: SIGINT ends it.
        inline: ["echo kiln-provisioning-sleeps", "sleep 60", "echo kiln-slept"],
      }]),
    );
    const { child, lines, stderr } = spawnKiln(ws, ["build", template]);
    let output = "";
    for await (const line of lines) {
      output += line + "\n";
      // The provisioner is on the instance, inside its sleep: now Ctrl-C.
      if (line.includes("kiln-provisioning-sleeps")) {
        child.kill("SIGINT");
        break;
      }
    }
    for await (const line of lines) output += line + "\n";
    const status = await child.status;
    output += await stderr;
    assert.notEqual(status.code, 0, output);
    assert.ok(!output.includes("kiln-slept"), "the provisioner was interrupted");
    const runId = output.match(/\b(\d{8}T\d{6}Z-[0-9a-f]+)\b/)?.[1];
    assert.ok(runId, output);
    const events = await runEvents(ws, runId);
    const types = events.map((e) => e.type);
    assert.ok(types.includes("RunCancelled"), `cancelled: ${types.join(" ")}`);
    assert.ok(!types.includes("ProvisionerSucceeded"));
    assert.ok(types.includes("CompensationStarted"));
    assert.ok(!types.includes("CompensationFailed"), output);
    for (const kind of ["aws.instance", "aws.security_group", "aws.key_pair"]) {
      assert.ok(
        events.some((e) => e.type === "ResourceDeleted" && e.data.kind === kind),
        `${kind} deleted by compensation`,
      );
    }
    assert.equal(events.at(-1)?.type, "RunFinished");
    assert.equal(events.at(-1)?.data.status, "cancelled");
    assert.deepEqual(ws.emulator.leaks(), []);
    assert.equal(ws.emulator.ledger().launches, 1);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance: a failing provisioner runs the error-cleanup-provisioner and leaks nothing", async () => {
  const ws = await awsWorkspace();
  try {
    const marker = `${ws.dir}/error-cleanup-ran`;
    const template = amazonTemplate(ws, {}, [
      { type: "shell", inline: ["echo kiln-ok"] },
      { type: "shell", inline: ["exit 3"] },
    ]);
    template["error-cleanup-provisioner"] = {
      type: "shell-local",
      inline: [`echo "{{build \`ID\`}}" > '${marker}'`],
    };
    const result = await kiln(ws, ["build", await writeTemplate(ws, template)]);
    assert.notEqual(result.code, 0);
    const ran = await Deno.readTextFile(marker);
    assert.match(ran, /^i-\w+/, "the cleanup provisioner ran, with the build's data");
    const events = await runEvents(ws, result.runId!);
    const started = events.filter((e) => e.type === "ProvisionerStarted");
    assert.ok(started.some((e) => e.data.errorCleanup === true));
    // It runs before compensation: the instance it may need is still there.
    const cleanupAt = events.findIndex((e) =>
      e.type === "ProvisionerStarted" && e.data.errorCleanup
    );
    const terminatedAt = events.findIndex((e) =>
      e.type === "ResourceDeleted" && e.data.kind === "aws.instance"
    );
    assert.ok(cleanupAt < terminatedAt, "cleanup provisioner before the instance is terminated");
    assert.deepEqual(ws.emulator.leaks(), []);
    assert.equal(ws.emulator.ledger().launches, 1);
  } finally {
    await ws.close();
  }
});
