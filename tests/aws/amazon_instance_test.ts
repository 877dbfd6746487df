/**
 * The amazon-instance builder end to end: kiln's CLI drives the real AWS SDK
 * against the EC2 emulator, provisions a real sshd "instance" over SSH,
 * bundles and uploads with the stand-in AMI tools, and registers the AMI.
 */
import assert from "node:assert/strict";
import {
  allText,
  amazonTemplate,
  awsWorkspace,
  kiln,
  SENTINEL_SECRET,
  writeTemplate,
} from "./support.ts";

const provisionMarker = [{
  type: "shell",
  inline: ['echo provisioned-by-kiln > "$KILN_INSTANCE_ROOT/etc-motd"'],
}];

Deno.test("amazon-instance: builds, registers the AMI and leaves only the AMI and its bundle", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(
      ws,
      amazonTemplate(
        ws,
        { tags: { Base: "{{.SourceAMI}}", Region: "{{.BuildRegion}}" } },
        provisionMarker,
      ),
    );
    const result = await kiln(ws, ["build", template]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const ledger = ws.emulator.ledger();
    assert.match(ledger.images[0]?.tags.Base ?? "", /^ami-/, "tags see the build template data");
    assert.equal(ledger.images[0]?.tags.Region, "us-east-1");
    assert.deepEqual(ledger.instances, [], "the build instance is terminated");
    assert.deepEqual(ledger.keyPairs, [], "the temporary key pair is deleted");
    assert.deepEqual(ledger.securityGroups, [], "the temporary security group is deleted");
    assert.equal(ledger.images.length, 1);
    assert.equal(ledger.images[0].name, "kiln-test-ami");
    assert.equal(ledger.images[0].state, "available");
    assert.equal(ledger.launches, 1);
    assert.ok(
      ledger.s3Objects.some((o) => o.startsWith("kiln-bundles/") && o.endsWith(".manifest.xml")),
    );
    assert.match(result.stdout, new RegExp(`us-east-1: ${ledger.images[0].imageId}`));
    // The secret key is on the upload command line: it must be masked everywhere.
    assert.ok(!(result.stdout + result.stderr).includes(SENTINEL_SECRET));
    assert.ok(!(await allText(ws.home)).includes(SENTINEL_SECRET));
    const events = (await Deno.readTextFile(`${ws.home}/runs/${result.runId}/events.jsonl`))
      .trim().split("\n").map((line) => JSON.parse(line));
    const connected = events.find((e) => e.type === "CommunicatorConnected");
    assert.equal(connected?.data.type, "ssh");
    assert.equal(connected?.data.port, ws.sshPort);
    assert.match(connected?.data.host, /^127\./, "the instance's own (loopback) address");
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance: a failed provisioner leaves nothing behind", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(
      ws,
      amazonTemplate(ws, {}, [{ type: "shell", inline: ["exit 3"] }]),
    );
    const result = await kiln(ws, ["build", template]);
    assert.notEqual(result.code, 0);
    assert.deepEqual(ws.emulator.leaks(), []);
    assert.equal(ws.emulator.ledger().launches, 1);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance: an existing AMI name is refused before anything is created", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(ws, amazonTemplate(ws));
    assert.equal((await kiln(ws, ["build", template])).code, 0);
    const second = await kiln(ws, ["build", template]);
    assert.notEqual(second.code, 0);
    assert.match(second.stdout + second.stderr, /is used by an existing AMI/);
    assert.equal(ws.emulator.ledger().launches, 1, "no second instance");
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance: killed after launch, resume adopts the instance and finishes", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(ws, amazonTemplate(ws, {}, provisionMarker));
    // Crash right after the instance is recorded as created: the next event is its wait.
    const crashed = await kiln(ws, ["build", template], {
      KILN_CRASH_AFTER: "ResourceCreated:aws.instance",
    });
    assert.notEqual(crashed.code, 0);
    assert.ok(crashed.runId, crashed.stdout + crashed.stderr);
    assert.equal(ws.emulator.ledger().instances.length, 1);
    const resumed = await kiln(ws, ["build", "--resume", crashed.runId!]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const ledger = ws.emulator.ledger();
    assert.equal(ledger.launches, 1, "exactly one instance per build, even across a crash");
    assert.equal(ledger.images.length, 1);
    assert.deepEqual(ledger.instances, []);
    assert.deepEqual(ledger.keyPairs, []);
    assert.deepEqual(ledger.securityGroups, []);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance: killed mid-build, cleanup removes every resource", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(ws, amazonTemplate(ws, {}, provisionMarker));
    const crashed = await kiln(ws, ["build", template], {
      KILN_CRASH_AFTER: "ResourceCreated:aws.ami",
    });
    assert.notEqual(crashed.code, 0);
    assert.ok(crashed.runId);
    assert.ok(ws.emulator.leaks().length > 0);
    const cleaned = await kiln(ws, ["cleanup", crashed.runId!]);
    assert.equal(cleaned.code, 0, cleaned.stdout + cleaned.stderr);
    assert.deepEqual(ws.emulator.leaks(), [], "AMI, bundle, instance, key and group all gone");
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance: a resumed run renders {{isotime}} as the crashed one did and registers one AMI", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(
      ws,
      amazonTemplate(ws, { ami_name: "kiln-{{isotime `2006-01-02T15-04-05.000`}}" }),
    );
    const crashed = await kiln(ws, ["build", template], {
      KILN_CRASH_AFTER: "ResourceCreated:aws.ami",
    });
    assert.notEqual(crashed.code, 0);
    const resumed = await kiln(ws, ["build", "--resume", crashed.runId!]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const images = ws.emulator.ledger().images;
    assert.equal(images.length, 1, `one AMI, not one per process: ${JSON.stringify(images)}`);
    assert.deepEqual(ws.emulator.ledger().instances, []);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance: a lost RunInstances response on a cloud that ignores ClientToken launches once", async () => {
  const ws = await awsWorkspace({
    faults: { ignoreClientToken: true, lostResponses: [{ action: "RunInstances", nth: 1 }] },
  });
  try {
    const template = await writeTemplate(ws, amazonTemplate(ws));
    const result = await kiln(ws, ["build", template]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const ledger = ws.emulator.ledger();
    assert.equal(ledger.launches, 1, "the retry found the tagged instance instead of relaunching");
    assert.deepEqual(ledger.instances, []);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance: 30% throttling is retried to a clean build", async () => {
  const ws = await awsWorkspace({ faults: { throttleRate: 0.3, seed: 7 } });
  try {
    const template = await writeTemplate(ws, amazonTemplate(ws, { max_retries: 12 }));
    const result = await kiln(ws, ["build", template]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const ledger = ws.emulator.ledger();
    assert.ok((ledger.faultsInjected.RequestLimitExceeded ?? 0) > 0, "faults were injected");
    assert.equal(ledger.launches, 1);
    assert.deepEqual(ledger.instances, []);
    assert.deepEqual(ledger.keyPairs, []);
    assert.deepEqual(ledger.securityGroups, []);
    assert.equal(ledger.images.length, 1);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance: a failure after the upload deletes the AMI and the S3 bundle", async () => {
  const ws = await awsWorkspace({
    // The region copy fails: after the bundle is uploaded and the AMI registered.
    faults: { failCalls: [{ action: "CopyImage", nth: 1, code: "InvalidRegion", status: 400 }] },
  });
  try {
    const template = await writeTemplate(ws, amazonTemplate(ws, { ami_regions: ["us-west-2"] }));
    const result = await kiln(ws, ["build", template]);
    assert.notEqual(result.code, 0);
    assert.match(
      result.stdout + result.stderr,
      /Error Copying AMI \(ami-\w+\) to region \(us-west-2\)/,
    );
    assert.deepEqual(ws.emulator.leaks(), []);
  } finally {
    await ws.close();
  }
});
