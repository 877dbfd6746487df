/**
 * PACKER_LOG records every AWS API call kiln makes (the real SDK against
 * the project's EC2 emulator), with the run's secrets masked and the
 * credentials nowhere in it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { startEc2Emulator } from "../support/ec2/mod.ts";
import { createEc2Client, loadEc2Sdk } from "../../steps/aws/client.ts";
import { closeDebugLog, configureDebugLog, maskDebugLogWith } from "../../runtime/debug_log.ts";
import { Masker } from "../../runtime/masker.ts";

Deno.test("PACKER_LOG: each EC2 call is a line naming the command, secrets masked, no credentials", async () => {
  await withTempDir(async (dir) => {
    const emulator = await startEc2Emulator();
    const logFile = join(dir, "packer.log");
    const secretKey = "kiln-test-secret-key-0123456789abcdef";
    const sensitive = "tag-value-that-is-sensitive";
    const env: Record<string, string> = { PACKER_LOG: "1", PACKER_LOG_PATH: logFile };
    try {
      assert.equal(configureDebugLog((n) => env[n]), undefined);
      maskDebugLogWith(new Masker([sensitive, secretKey]));
      const ec2 = await createEc2Client({
        region: "us-east-1",
        access_key: "AKIAKILNTEST",
        secret_key: secretKey,
        custom_endpoint_ec2: emulator.endpoint,
      });
      const { DescribeImagesCommand } = await loadEc2Sdk();
      await ec2.send(
        new DescribeImagesCommand({ Filters: [{ Name: "tag:Secret", Values: [sensitive] }] }),
      );
      ec2.destroy();
    } finally {
      closeDebugLog();
      await emulator.close();
    }
    const log = await Deno.readTextFile(logFile);
    const call = log.split("\n").find((l) => l.includes("DescribeImagesCommand"));
    assert.ok(call, log);
    assert.match(call, /^\d{4}\/\d\d\/\d\d [\d:.]+ \[INFO\] aws ec2: /);
    assert.match(call, /"Values":\["<sensitive>"\]/);
    assert.ok(!log.includes(sensitive) && !log.includes(secretKey), log);
  });
});
