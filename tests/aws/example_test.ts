/**
 * examples/amazon-instance.json, unchanged, against the emulator: the README's
 * instructions (`-var endpoint=... -var ssh_port=... -var user=...`) build
 * and register an AMI.
 */
import assert from "node:assert/strict";
import { type AwsWorkspace, awsWorkspace, kiln } from "./support.ts";

const EXAMPLE = new URL("../../examples/amazon-instance.json", import.meta.url).pathname;

/** Builds an example as the README says: the emulator's endpoint, sshd's port, this user. */
function buildExample(ws: AwsWorkspace, example: string) {
  return kiln(ws, [
    "build",
    ...["-var", `endpoint=${ws.emulator.endpoint}`, "-var", `ssh_port=${ws.sshPort}`],
    ...["-var", `user=${Deno.env.get("USER") ?? "root"}`],
    example,
  ]);
}

Deno.test("examples/amazon-instance.json builds and registers an AMI against the emulator", async () => {
  const ws = await awsWorkspace();
  try {
    const result = await buildExample(ws, EXAMPLE);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /provisioned by kiln on /);
    const ledger = ws.emulator.ledger();
    assert.equal(ledger.launches, 1);
    assert.deepEqual(ledger.instances, []);
    assert.deepEqual(ledger.keyPairs, []);
    assert.deepEqual(ledger.securityGroups, []);
    assert.equal(ledger.images.length, 1);
    const ami = ledger.images[0];
    assert.equal(ami.state, "available");
    assert.match(ami.name, /^kiln-example-\d+$/);
    assert.equal(ami.tags.Builder, "kiln");
    assert.match(ami.tags.Base, /^ami-/);
    assert.match(
      ws.emulator.emulator.images.get(ami.imageId)?.description ?? "",
      /^built from ubuntu\/images\/hvm-instance\/ubuntu-bionic-18\.04-amd64-server-20230531 in us-east-1$/,
    );
    assert.ok(ledger.s3Objects.some((o) => o.startsWith("kiln-example-bundles/")));
    assert.match(result.stdout, new RegExp(`us-east-1: ${ami.imageId}`));
    assert.ok(!(result.stdout + result.stderr).includes("example-secret"), "secret_key masked");
  } finally {
    await ws.close();
  }
});

const EBS_EXAMPLE = new URL("../../examples/amazon-ebs.json", import.meta.url).pathname;

Deno.test("examples/amazon-ebs.json builds an encrypted EBS AMI and its copy against the emulator", async () => {
  const ws = await awsWorkspace();
  try {
    const result = await buildExample(ws, EBS_EXAMPLE);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /provisioned by kiln on /);
    const ledger = ws.emulator.ledger();
    assert.deepEqual(ledger.images.map((i) => i.region).sort(), ["eu-west-1", "us-east-1"]);
    for (const ami of ledger.images) {
      assert.match(result.stdout, new RegExp(`${ami.region}: ${ami.imageId}`));
      const image = ws.emulator.emulator.images.get(ami.imageId)!;
      assert.equal(image.blockDeviceMappings[0].ebs?.volumeSize, 16);
      const snapshot = ws.emulator.emulator.snapshots.get(
        image.blockDeviceMappings[0].ebs!.snapshotId!,
      )!;
      assert.equal(snapshot.encrypted, true, `${ami.region}: encrypted`);
    }
    const euSnapshot = ledger.snapshots.find((s) => s.region === "eu-west-1")!;
    assert.equal(
      ws.emulator.emulator.snapshots.get(euSnapshot.snapshotId)!.kmsKeyId,
      "alias/kiln-example",
    );
    assert.equal(ledger.snapshots.length, 2, "the unencrypted original's snapshot is gone");
    assert.ok(ledger.snapshots.every((s) => s.tags.Builder === "kiln"));
    assert.ok(!(result.stdout + result.stderr).includes("example-secret"), "secret_key masked");
  } finally {
    await ws.close();
  }
});
