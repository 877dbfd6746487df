/**
 * "Every retry is an event": throttling and 5xx answers the SDK retries
 * (jittered backoff, up to max_retries) each appear in the run log as
 * `AwsRetry{action, code, attempt}` — from steps as that event, from resource
 * handlers (compensation, temporary cleanup) as a logged UI line.
 */
import assert from "node:assert/strict";
import { amazonTemplate, awsWorkspace, kiln, runEvents, writeTemplate } from "./support.ts";

Deno.test("amazon-instance: every throttled or 5xx call that is retried is logged", async () => {
  const ws = await awsWorkspace({
    faults: {
      throttleRate: 0.3,
      seed: 11,
      // Two 5xx answers in a row early in the build: one call retried twice.
      serverErrorBursts: [{ startCall: 2, length: 2, status: 500 }],
    },
  });
  try {
    const template = await writeTemplate(ws, amazonTemplate(ws, { max_retries: 12 }));
    const result = await kiln(ws, ["build", template]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const ledger = ws.emulator.ledger();
    const injected = Object.values(ledger.faultsInjected).reduce((a, b) => a + b, 0);
    assert.ok((ledger.faultsInjected.RequestLimitExceeded ?? 0) > 0, "throttling was injected");

    const events = await runEvents(ws, result.runId!);
    const retries = events.filter((e) => e.type === "AwsRetry");
    for (const r of retries) {
      assert.equal(typeof r.data.action, "string");
      assert.ok(["RequestLimitExceeded", "InternalError"].includes(String(r.data.code)));
      assert.ok(Number(r.data.attempt) >= 1 && Number(r.data.attempt) <= 12);
      assert.equal(r.data.maxAttempts, 13, "max_retries 12 = 13 attempts");
    }
    assert.ok(
      retries.some((r) => r.data.code === "InternalError" && r.data.attempt === 2),
      "the burst's call was retried twice, each retry its own event",
    );
    const handlerRetries = events.filter((e) =>
      e.type === "Ui" && /failed \((RequestLimitExceeded|InternalError)\); retry \d+ of 12/.test(
        JSON.stringify(e.data),
      )
    );
    // The build succeeded, so every injected fault was followed by a retry: one record each.
    assert.equal(retries.length + handlerRetries.length, injected);
    // The retried calls, as the emulator saw them, match the logged actions.
    const failedActions = ws.emulator.requests().filter((r) => r.error).map((r) => r.action)
      .sort();
    const logged = [...retries, ...handlerRetries].map((e) =>
      e.type === "AwsRetry"
        ? String(e.data.action)
        : JSON.stringify(e.data).match(/(\w+) failed/)![1]
    ).sort();
    assert.deepEqual(logged, failedActions);
  } finally {
    await ws.close();
  }
});

Deno.test("without max_retries, AWS calls are retried 3 times, as aws-sdk-go (Packer) does", async () => {
  const { maxAttemptsFor } = await import("../../steps/aws/client.ts");
  assert.equal(maxAttemptsFor({ region: "us-east-1" }), 4);
  assert.equal(maxAttemptsFor({ region: "us-east-1", max_retries: 0 }), 4);
  assert.equal(maxAttemptsFor({ region: "us-east-1", max_retries: 12 }), 13);
});
