/**
 * The amazon-ebs builder end to end: kiln's CLI drives the real AWS SDK
 * against the EC2 emulator, provisions a real sshd "instance", stops it,
 * snapshots its volumes into an AMI, copies, encrypts, shares, tags and
 * deprecates it — and leaves exactly the AMIs and their snapshots.
 */
import assert from "node:assert/strict";
import {
  allText,
  type AwsWorkspace,
  awsWorkspace,
  ebsTemplate,
  kiln,
  SENTINEL_SECRET,
  writeTemplate,
} from "./support.ts";

const OTHER_ACCOUNT = "210987654321";
const PROVISION = [{ type: "shell", inline: ['echo built > "$KILN_INSTANCE_ROOT/etc/built"'] }];

/** The AMIs and snapshots alive, and nothing else (instances, keys, groups, volumes). */
function assertOnlyAmisAndSnapshots(ws: AwsWorkspace) {
  const l = ws.emulator.ledger();
  assert.deepEqual(
    ws.emulator.leaks().sort(),
    [...l.images.map((i) => i.imageId), ...l.snapshots.map((s) => s.snapshotId)].sort(),
    "nothing but the AMIs and their snapshots is left",
  );
}

Deno.test("amazon-ebs: region from the shared config; volumes, copies, sharing, tags, ENA, IMDSv2, deprecation", async () => {
  const ws = await awsWorkspace();
  try {
    // No `region` in the template: the profile's region in the shared config file.
    await Deno.writeTextFile(
      `${ws.dir}/aws-config`,
      "[default]\nregion = eu-west-1\n\n[profile kiln]\nregion = us-east-1\n",
    );
    const template = ebsTemplate(ws, {
      region: undefined,
      launch_block_device_mappings: [{
        device_name: "/dev/sdb",
        volume_size: 20,
        volume_type: "gp3",
        delete_on_termination: false,
      }],
      ami_block_device_mappings: [{ device_name: "/dev/sdc", volume_size: 5 }],
      ami_regions: ["us-west-2"],
      tags: { Base: "{{.SourceAMI}}" },
      snapshot_tags: { Kind: "snap-of-{{.SourceAMIName}}" },
      run_volume_tags: { Vol: "{{.BuildRegion}}" },
      ami_users: [OTHER_ACCOUNT],
      snapshot_users: [OTHER_ACCOUNT],
      ena_support: true,
      sriov_support: true,
      metadata_options: { http_tokens: "required", http_put_response_hop_limit: 2 },
      deprecate_at: "2040-01-31T00:00:00Z",
    }, PROVISION);
    const result = await kiln(ws, ["build", await writeTemplate(ws, template)], {
      AWS_CONFIG_FILE: `${ws.dir}/aws-config`,
      AWS_PROFILE: "kiln",
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const emu = ws.emulator.emulator;
    const l = ws.emulator.ledger();
    assert.equal(l.launches, 1);
    assert.deepEqual(l.images.map((i) => i.region).sort(), ["us-east-1", "us-west-2"]);
    const built = [...emu.images.values()].find((i) => !i.seeded && i.region === "us-east-1")!;
    const copy = [...emu.images.values()].find((i) => !i.seeded && i.region === "us-west-2")!;
    assert.match(result.stdout, new RegExp(`us-east-1: ${built.imageId}`));
    assert.match(result.stdout, new RegExp(`us-west-2: ${copy.imageId}`));
    // The AMI: root and /dev/sdb snapshotted, /dev/sdc added empty, ENA and SR-IOV on.
    const devices = built.blockDeviceMappings.map((b) => [
      b.deviceName,
      b.ebs?.volumeSize,
      b.ebs?.snapshotId?.slice(0, 5),
    ]);
    assert.deepEqual(devices, [["/dev/xvda", 8, "snap-"], ["/dev/sdb", 20, "snap-"], [
      "/dev/sdc",
      5,
      undefined,
    ]]);
    assert.equal(built.enaSupport, true);
    assert.equal(built.sriovNetSupport, "simple");
    for (const image of [built, copy]) {
      assert.equal(image.deprecationTime, "2040-01-31T00:00:00.000Z");
      assert.deepEqual(image.launchPermissions, [{
        userId: OTHER_ACCOUNT,
        group: undefined,
        organizationArn: undefined,
        organizationalUnitArn: undefined,
      }]);
      assert.match(l.images.find((i) => i.imageId === image.imageId)!.tags.Base, /^ami-/);
    }
    // Two snapshots per AMI, tagged (AMI tags + snapshot_tags) and shared.
    assert.equal(l.snapshots.length, 4);
    for (const s of l.snapshots) {
      assert.equal(s.tags.Kind, "snap-of-amzn2-ami-hvm-2.0.20231218.0-x86_64-gp2");
      assert.match(s.tags.Base, /^ami-/);
      assert.deepEqual(emu.snapshots.get(s.snapshotId)!.createVolumePermissions, [{
        userId: OTHER_ACCOUNT,
        group: undefined,
      }]);
    }
    // The instance ran with IMDSv2 and tagged volumes; the kept /dev/sdb volume went too.
    const instance = [...emu.instances.values()][0];
    assert.equal(instance.metadataOptions.httpTokens, "required");
    assert.equal(instance.metadataOptions.httpPutResponseHopLimit, 2);
    const run = ws.emulator.requests().find((r) => r.action === "RunInstances")!;
    const volumeSpec = Object.entries(run.params).find(([, v]) => v === "volume")![0]
      .replace(/ResourceType$/, "");
    assert.equal(run.params[`${volumeSpec}Tag.1.Key`], "Vol");
    assert.equal(run.params[`${volumeSpec}Tag.1.Value`], "us-east-1");
    // Everything the build made carries its run: the volumes, the AMI and its snapshots.
    assert.equal(run.params[`${volumeSpec}Tag.2.Value`], result.runId);
    assert.equal(l.images.find((i) => i.region === "us-east-1")!.tags["kiln:run-id"], result.runId);
    const own = built.blockDeviceMappings.flatMap((b) => b.ebs?.snapshotId ?? []);
    for (const id of own) {
      assert.equal(l.snapshots.find((s) => s.snapshotId === id)!.tags["kiln:run-id"], result.runId);
    }
    assert.deepEqual(l.volumes, [], "no volume outlives the build");
    assertOnlyAmisAndSnapshots(ws);
    assert.ok(!(await allText(ws.home)).includes(SENTINEL_SECRET));
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-ebs: encrypt_boot with kms_key_id (region from AWS_DEFAULT_REGION) leaves one encrypted AMI", async () => {
  const ws = await awsWorkspace();
  try {
    const kms = "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const template = ebsTemplate(ws, {
      region: undefined,
      encrypt_boot: true,
      kms_key_id: kms,
      ami_name: "kiln-encrypted",
    }, PROVISION);
    const result = await kiln(ws, ["build", await writeTemplate(ws, template)], {
      AWS_DEFAULT_REGION: "us-east-2",
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const l = ws.emulator.ledger();
    assert.deepEqual(l.images.map((i) => [i.name, i.region]), [["kiln-encrypted", "us-east-2"]]);
    assert.match(result.stdout, new RegExp(`us-east-2: ${l.images[0].imageId}`));
    const image = ws.emulator.emulator.images.get(l.images[0].imageId)!;
    const snapshotIds = image.blockDeviceMappings.map((b) => b.ebs?.snapshotId);
    assert.deepEqual(l.snapshots.map((s) => s.snapshotId), snapshotIds, "only the copy's");
    for (const id of snapshotIds) {
      const snapshot = ws.emulator.emulator.snapshots.get(id!)!;
      assert.equal(snapshot.encrypted, true);
      assert.equal(snapshot.kmsKeyId, kms);
    }
    assertOnlyAmisAndSnapshots(ws);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-ebs: a failure after CreateImage removes the AMI with its snapshots; force_deregister replaces an AMI", async () => {
  const ws = await awsWorkspace();
  try {
    // A copy to an unknown region fails after the AMI and its snapshot exist.
    const failing = ebsTemplate(ws, { ami_regions: ["xx-nowhere-1"] }, PROVISION);
    const failed = await kiln(ws, ["build", await writeTemplate(ws, failing)]);
    assert.notEqual(failed.code, 0, failed.stdout);
    assert.match(failed.stdout + failed.stderr, /xx-nowhere-1/);
    assert.equal(ws.emulator.ledger().calls.CreateImage, 1, "the AMI was made before the failure");
    assert.deepEqual(ws.emulator.leaks(), [], "AMI, snapshots, volumes, instance: all gone");

    const first = await kiln(ws, ["build", await writeTemplate(ws, ebsTemplate(ws))]);
    assert.equal(first.code, 0, first.stdout);
    const old = ws.emulator.ledger();
    const replacing = ebsTemplate(ws, { force_deregister: true, force_delete_snapshot: true });
    const second = await kiln(ws, ["build", await writeTemplate(ws, replacing)]);
    assert.equal(second.code, 0, second.stdout);
    const now = ws.emulator.ledger();
    assert.equal(now.images.length, 1);
    assert.notEqual(now.images[0].imageId, old.images[0].imageId);
    assert.equal(now.snapshots.length, 1);
    assert.notEqual(now.snapshots[0].snapshotId, old.snapshots[0].snapshotId, "old one deleted");
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-ebs: skip_create_ami provisions and leaves nothing, with no artifact", async () => {
  const ws = await awsWorkspace();
  try {
    const template = ebsTemplate(ws, { skip_create_ami: true }, PROVISION);
    const result = await kiln(ws, ["build", await writeTemplate(ws, template)]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /no artifacts were created/);
    const l = ws.emulator.ledger();
    assert.equal(l.launches, 1);
    assert.equal(l.calls.StopInstances, undefined);
    assert.equal(l.calls.CreateImage, undefined);
    assert.deepEqual(ws.emulator.leaks(), []);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-ebs: with no region anywhere the build says where to set one and creates nothing", async () => {
  const ws = await awsWorkspace();
  try {
    const template = ebsTemplate(ws, { region: undefined });
    const result = await kiln(ws, ["build", await writeTemplate(ws, template)], {
      // No shared config either (it overrides ~/.aws/config).
      AWS_CONFIG_FILE: `${ws.dir}/no-such-config`,
      AWS_REGION: "",
      AWS_DEFAULT_REGION: "",
      AWS_PROFILE: "",
    });
    assert.equal(result.code, 1);
    assert.match(
      result.stdout + result.stderr,
      /No AWS region: set "region" in the builder, AWS_REGION/,
    );
    assert.doesNotMatch(result.stdout + result.stderr, /\n\s+at /, "no stack trace");
    assert.deepEqual(ws.emulator.ledger().calls, {}, "no EC2 call was made");
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-ebs spot: no stop; the launch template carries IMDSv2, volume tags and no_ephemeral", async () => {
  const ws = await awsWorkspace();
  try {
    const template = ebsTemplate(ws, {
      spot_price: "auto",
      run_volume_tags: { Vol: "spot-{{.SourceAMI}}" },
      metadata_options: { http_tokens: "required" },
      no_ephemeral: true,
    }, PROVISION);
    const result = await kiln(ws, ["build", await writeTemplate(ws, template)], {
      AWS_ENDPOINT_URL_IAM: ws.emulator.endpoint,
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const instance = [...ws.emulator.emulator.instances.values()][0];
    assert.equal(instance.instanceLifecycle, "spot");
    assert.equal(instance.metadataOptions.httpTokens, "required");
    const lt = ws.emulator.requests().find((r) => r.action === "CreateLaunchTemplate")!;
    const params = Object.entries(lt.params);
    const volumeSpec = params.find(([k, v]) => k.endsWith("ResourceType") && v === "volume")![0]
      .replace(/ResourceType$/, "");
    assert.match(lt.params[`${volumeSpec}Tag.1.Value`], /^spot-ami-/);
    const noDevices = params.filter(([k]) => k.endsWith(".NoDevice")).length;
    assert.equal(noDevices, 24, "xvdb..xvdy suppressed");
    // A one-time spot instance cannot stop: the image is made from it running, as Packer does.
    assert.equal(ws.emulator.ledger().calls.StopInstances, undefined);
    assertOnlyAmisAndSnapshots(ws);
    assert.equal(ws.emulator.ledger().images.length, 1);
  } finally {
    await ws.close();
  }
});
