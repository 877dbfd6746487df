/**
 * Options kiln accepts but cannot serve (issue 5): `ssh_interface:
 * session_manager` and `vault_aws_engine` pass validation, then fail at the
 * step that needs the service, with a message saying so — and the usual
 * compensations leave nothing behind.
 */
import assert from "node:assert/strict";
import { amazonTemplate, awsWorkspace, kiln, runEvents, writeTemplate } from "./support.ts";

Deno.test("amazon-instance: session_manager validates, then fails at the SSM tunnel and leaks nothing", async () => {
  const ws = await awsWorkspace();
  try {
    const env = { AWS_ENDPOINT_URL_IAM: ws.emulator.endpoint };
    const path = await writeTemplate(
      ws,
      amazonTemplate(ws, {
        ssh_interface: "session_manager",
        temporary_iam_instance_profile_policy_document: {
          Statement: [{ Effect: "Allow", Action: "ssm:*", Resource: "*" }],
        },
      }),
    );
    const validated = await kiln(ws, ["validate", path], env);
    assert.equal(validated.code, 0, validated.stdout + validated.stderr);

    const result = await kiln(ws, ["build", path], env);
    assert.notEqual(result.code, 0);
    const output = result.stdout + result.stderr;
    assert.match(output, /ssh_interface "session_manager" is not supported by kiln/);
    assert.ok(!/\n\s+at /.test(output), "no stack trace");
    const events = await runEvents(ws, result.runId!);
    const failed = events.find((e) => e.type === "StepFailed");
    assert.equal(failed?.step, "aws.ssm_tunnel");
    assert.equal(ws.emulator.ledger().launches, 1, "it failed where Packer opens the tunnel");
    assert.deepEqual(ws.emulator.leaks(), []);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance: vault_aws_engine validates, then fails before any AWS call and leaks nothing", async () => {
  const ws = await awsWorkspace();
  try {
    const path = await writeTemplate(
      ws,
      amazonTemplate(ws, {
        access_key: undefined,
        secret_key: undefined,
        vault_aws_engine: { name: "packer-role", ttl: "3600s" },
      }),
    );
    const validated = await kiln(ws, ["validate", path]);
    assert.equal(validated.code, 0, validated.stdout + validated.stderr);

    const result = await kiln(ws, ["build", path]);
    assert.notEqual(result.code, 0);
    const output = result.stdout + result.stderr;
    assert.match(output, /vault_aws_engine is not supported by kiln/);
    assert.ok(!/\n\s+at /.test(output), "no stack trace");
    const events = await runEvents(ws, result.runId!);
    assert.equal(events.find((e) => e.type === "StepFailed")?.step, "aws.pre_validate");
    assert.deepEqual(ws.emulator.ledger().calls, {}, "no AWS call was made");
    assert.deepEqual(ws.emulator.leaks(), []);
  } finally {
    await ws.close();
  }
});
