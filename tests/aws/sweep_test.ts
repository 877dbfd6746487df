/**
 * `kiln sweep` end to end: real kiln builds (one killed with SIGKILL, one
 * that succeeds) and resources made directly through the real AWS SDK, all
 * in the EC2 emulator; the sweep is the real CLI. Every test compares the
 * emulator's full list of live resources before and after, so a sweep that
 * deletes one thing too many fails.
 */
import assert from "node:assert/strict";
import {
  CreateImageCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  amazonTemplate,
  type AwsWorkspace,
  awsWorkspace,
  ebsTemplate,
  kiln,
  type KilnResult,
  spawnKiln,
  writeTemplate,
} from "./support.ts";

const RUN_TAG = "kiln:run-id";
/** A well-formed run id no store here knows: another machine's run, or a forgery. */
const UNKNOWN_RUN = "20200101T000000Z-abcdef";
/** Not a run id, with a terminal escape in it: must be shown escaped and never deleted. */
const EVIL_TAG = "evil\u001b[2J../../x";

function sweep(ws: AwsWorkspace, ...flags: string[]): Promise<KilnResult> {
  return kiln(
    ws,
    ["sweep", "--region", "us-east-1", "--endpoint", ws.emulator.endpoint, ...flags],
    {
      AWS_ACCESS_KEY_ID: "AKIAKILNTEST00000001",
      AWS_SECRET_ACCESS_KEY: "kiln-test-secret",
      AWS_POLL_DELAY_SECONDS: "1",
    },
  );
}

function client(ws: AwsWorkspace): EC2Client {
  return new EC2Client({
    endpoint: ws.emulator.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIAKILNTEST00000001", secretAccessKey: "x" },
  });
}

function tagged(runTag: string, type: string) {
  return [{ ResourceType: type as "key-pair", Tags: [{ Key: RUN_TAG, Value: runTag }] }];
}

function without(list: string[], gone: string[]): string[] {
  return list.filter((id) => !gone.includes(id)).sort();
}

Deno.test("sweep: a build killed with SIGKILL is interrupted, not orphaned; after kiln cleanup nothing is left", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(
      ws,
      amazonTemplate(ws, {}, [{
        type: "shell",
        inline: ["echo kiln-provisioning-sleeps", "sleep 60"],
      }]),
    );
    const { child, lines, stderr } = spawnKiln(ws, ["build", template]);
    let output = "";
    for await (const line of lines) {
      output += line + "\n";
      if (line.includes("kiln-provisioning-sleeps")) break;
    }
    const runId = output.match(/\b(\d{8}T\d{6}Z-[0-9a-f]{6})\b/)?.[1];
    assert.ok(runId, output);
    const live = ws.emulator.leaks().sort();
    assert.equal(live.length, 3, `instance, key pair, security group: ${live}`);

    // While the build runs, even -delete leaves its resources alone.
    const during = await sweep(ws, "-delete");
    assert.equal(during.code, 0, during.stdout + during.stderr);
    assert.match(during.stdout, new RegExp(`Run ${runId}: running`));
    assert.match(during.stdout, /0 orphan\(s\)/);
    assert.deepEqual(ws.emulator.leaks().sort(), live);

    child.kill("SIGKILL");
    await child.status;
    for await (const _ of lines) { /* drain */ }
    await stderr;

    const listed = await sweep(ws);
    assert.equal(listed.code, 0, listed.stdout + listed.stderr);
    assert.match(listed.stdout, new RegExp(`Run ${runId}: interrupted`));
    assert.ok(listed.stdout.includes(`kiln cleanup ${runId}`), listed.stdout);
    for (const kind of ["instance", "security-group", "key-pair"]) {
      assert.match(listed.stdout, new RegExp(`kept\\s+${kind}\\s+\\S+\\s+its run is interrupted`));
    }
    const deleting = await sweep(ws, "-delete");
    assert.equal(deleting.code, 0, deleting.stdout + deleting.stderr);
    assert.doesNotMatch(deleting.stdout, /deleted:/);
    assert.deepEqual(ws.emulator.leaks().sort(), live, "an interrupted run's resources stay");

    const cleaned = await kiln(ws, ["cleanup", runId]);
    assert.equal(cleaned.code, 0, cleaned.stdout + cleaned.stderr);
    assert.deepEqual(ws.emulator.leaks(), []);
    const after = await sweep(ws, "-delete");
    assert.equal(after.code, 0, after.stdout + after.stderr);
    assert.match(after.stdout, /0 kiln-tagged resource\(s\) of 0 run\(s\); 0 orphan\(s\)/);
  } finally {
    await ws.close();
  }
});

Deno.test("sweep: a succeeded (and cleaned-up) run's AMI and its snapshot are kept; a forged resource of that finished run is an orphan", async () => {
  const ws = await awsWorkspace();
  const ec2 = client(ws);
  try {
    const built = await kiln(ws, ["build", await writeTemplate(ws, ebsTemplate(ws))]);
    assert.equal(built.code, 0, built.stdout + built.stderr);
    const runId = built.runId!;
    const { images, snapshots } = ws.emulator.ledger();
    assert.equal(images.length, 1);
    assert.equal(images[0].tags[RUN_TAG], runId, "the AMI carries the run's tag");
    assert.ok(snapshots.length > 0 && snapshots.every((s) => s.tags[RUN_TAG] === runId));
    // A cleanup of a succeeded run keeps its results, and so must the sweep after it.
    const cleaned = await kiln(ws, ["cleanup", runId]);
    assert.equal(cleaned.code, 0, cleaned.stdout + cleaned.stderr);
    assert.equal(ws.emulator.ledger().images.length, 1);

    // Left behind after the run finished, as far as the sweep can tell.
    await ec2.send(
      new CreateKeyPairCommand({ KeyName: "leaked", TagSpecifications: tagged(runId, "key-pair") }),
    );
    const leakedKey = ws.emulator.ledger().keyPairs.find((k) => k.keyName === "leaked")!.keyPairId;
    const before = ws.emulator.leaks().sort();

    const listed = await sweep(ws);
    assert.equal(listed.code, 0, listed.stdout + listed.stderr);
    assert.match(listed.stdout, new RegExp(`Run ${runId}: finished \\(succeeded\\)`));
    assert.match(listed.stdout, /1 orphan\(s\) \(nothing deleted/);
    assert.match(listed.stdout, /orphan\s+key-pair\s+leaked\s+its run is finished/);
    assert.match(listed.stdout, /kept\s+image\s+ami-\S+\s+a result of its succeeded run/);
    assert.match(
      listed.stdout,
      /kept\s+snapshot\s+snap-\S+\s+used by ami-\S+, which the sweep keeps/,
    );
    assert.deepEqual(ws.emulator.leaks().sort(), before, "listing changes nothing");

    // Even the flag that widens what counts as an orphan AMI never reaches a result.
    const deleted = await sweep(ws, "-delete", "-include-unrecorded-images");
    assert.equal(deleted.code, 0, deleted.stdout + deleted.stderr);
    assert.match(deleted.stdout, /deleted: key-pair leaked/);
    assert.deepEqual(ws.emulator.leaks().sort(), without(before, [leakedKey]));
  } finally {
    ec2.destroy();
    await ws.close();
  }
});

Deno.test("sweep: an unknown run's resources are deleted only with -delete, its AMI only on request; invalid tags never", async () => {
  const ws = await awsWorkspace();
  const ec2 = client(ws);
  try {
    const source = await ec2.send(
      new DescribeImagesCommand({
        Owners: ["amazon"],
        Filters: [{ Name: "name", Values: ["amzn2-ami-hvm-*"] }],
      }),
    );
    const launched = await ec2.send(
      new RunInstancesCommand({
        ImageId: source.Images![0].ImageId!,
        InstanceType: "t3.micro",
        // Two: the sweep terminates them side by side.
        MinCount: 2,
        MaxCount: 2,
        TagSpecifications: [
          ...tagged(UNKNOWN_RUN, "instance"),
          ...tagged(UNKNOWN_RUN, "volume"),
        ],
      }),
    );
    const instanceIds = launched.Instances!.map((i) => i.InstanceId!);
    const instanceId = instanceIds[0];
    for (let i = 0; i < 100; i++) {
      const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: instanceIds }));
      const states = out.Reservations!.flatMap((r) => r.Instances!).map((x) => x.State?.Name);
      if (states.every((state) => state === "running")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const image = await ec2.send(
      new CreateImageCommand({
        InstanceId: instanceId,
        Name: "unknown-run-ami",
        TagSpecifications: [
          ...tagged(UNKNOWN_RUN, "image"),
          ...tagged(UNKNOWN_RUN, "snapshot"),
        ],
      }),
    );
    await ec2.send(
      new CreateKeyPairCommand({
        KeyName: "unknown-key",
        TagSpecifications: tagged(UNKNOWN_RUN, "key-pair"),
      }),
    );
    const group = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: "unknown-group",
        Description: "x",
        TagSpecifications: tagged(UNKNOWN_RUN, "security-group"),
      }),
    );
    // A tag value that is no run id, and a user's own untagged key.
    await ec2.send(
      new CreateKeyPairCommand({
        KeyName: "evil-key",
        TagSpecifications: tagged(EVIL_TAG, "key-pair"),
      }),
    );
    await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: "evil-group",
        Description: "x",
        TagSpecifications: tagged(EVIL_TAG, "security-group"),
      }),
    );
    await ec2.send(new CreateKeyPairCommand({ KeyName: "users-own-key" }));

    const ledger = ws.emulator.ledger();
    const volumeIds = ledger.volumes.map((v) => v.volumeId);
    assert.equal(volumeIds.length, 2, "each instance's root volume");
    const snapshotIds = ledger.snapshots.map((s) => s.snapshotId);
    assert.equal(snapshotIds.length, 1);
    const keyId = ledger.keyPairs.find((k) => k.keyName === "unknown-key")!.keyPairId;
    const before = ws.emulator.leaks().sort();

    const listed = await sweep(ws, "-machine-readable");
    assert.equal(listed.code, 0, listed.stdout + listed.stderr);
    assert.deepEqual(ws.emulator.leaks().sort(), before, "without -delete nothing changes");
    const rows = listed.stdout.split("\n").filter((l) => l.includes(",sweep-resource,"))
      .map((l) => l.split(",").slice(3));
    const row = (id: string) => rows.find((r) => r[5] === id);
    for (const id of [...instanceIds, ...volumeIds, group.GroupId!, "unknown-key"]) {
      assert.deepEqual(row(id)?.slice(2, 3), ["unknown"], `${id} of an unknown run`);
      assert.equal(row(id)?.[7], "orphan", id);
    }
    assert.equal(row(image.ImageId!)?.[7], "kept", "an unknown run's AMI needs asking for");
    assert.equal(row(snapshotIds[0])?.[7], "kept", "and so does the snapshot it uses");
    assert.equal(row("evil-key")?.[2], "invalid");
    assert.equal(row("evil-key")?.[7], "kept");
    assert.equal(row("users-own-key"), undefined, "untagged resources are not kiln's");
    assert.ok(!listed.stdout.includes("\u001b"), "a tag's escape sequence is never printed raw");
    assert.ok(listed.stdout.includes("evil\\u001b[2J../../x"), listed.stdout);

    const deleted = await sweep(ws, "-delete");
    assert.equal(deleted.code, 0, deleted.stdout + deleted.stderr);
    const afterDelete = without(before, [...instanceIds, ...volumeIds, keyId, group.GroupId!]);
    assert.deepEqual(ws.emulator.leaks().sort(), afterDelete);
    const batch = ws.emulator.requests().find((r) =>
      r.action === "TerminateInstances" && r.params["InstanceId.2"] !== undefined
    );
    assert.deepEqual(
      [batch?.params["InstanceId.1"], batch?.params["InstanceId.2"]].sort(),
      [...instanceIds].sort(),
      "both instances asked to terminate in one call",
    );
    // The instance went before the group it might hold.
    const order = [...deleted.stdout.matchAll(/deleted: (\S+)/g)].map((m) => m[1]);
    assert.ok(order.indexOf("instance") < order.indexOf("security-group"), deleted.stdout);

    const widened = await sweep(ws, "-delete", "-include-unrecorded-images");
    assert.equal(widened.code, 0, widened.stdout + widened.stderr);
    assert.deepEqual(
      ws.emulator.leaks().sort(),
      without(afterDelete, [image.ImageId!, snapshotIds[0]]),
      "the AMI and its snapshot go; invalid tags and untagged resources stay",
    );
  } finally {
    ec2.destroy();
    await ws.close();
  }
});

Deno.test("sweep: bad usage gets the usage or a clear error, never a stack trace", async () => {
  const ws = await awsWorkspace();
  try {
    const none = await kiln(ws, ["sweep"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^Usage: kiln sweep -region=REGION/);
    const badEndpoint = await sweep(ws, "-endpoint", "file:///etc/passwd");
    assert.equal(badEndpoint.code, 1);
    assert.match(badEndpoint.stderr, /-endpoint must be an http\(s\) URL/);
    const unknownFlag = await kiln(ws, ["sweep", "-region=us-east-1", "-force"]);
    assert.equal(unknownFlag.code, 1);
    assert.match(unknownFlag.stderr, /flag provided but not defined: -force/);
    for (const r of [none, badEndpoint, unknownFlag]) assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(ws.emulator.requests(), [], "nothing reached EC2");
  } finally {
    await ws.close();
  }
});
