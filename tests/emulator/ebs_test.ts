/**
 * The emulator's EBS side through the real SDK, with EC2's rules: volumes
 * from the AMI's mappings and the request's, only an EBS root stops, ENA
 * needs a stopped instance, CreateImage snapshots every volume, a copy can
 * be encrypted, and a snapshot behind a registered AMI cannot be deleted.
 */
import assert from "node:assert/strict";
import {
  CopyImageCommand,
  CreateImageCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  EnableImageDeprecationCommand,
  ModifyInstanceAttributeCommand,
  ModifySnapshotAttributeCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { ec2Client, waitFor, withEmulator } from "./helpers.ts";

async function image(client: EC2Client, name: string): Promise<string> {
  const out = await client.send(
    new DescribeImagesCommand({ Owners: ["amazon"], Filters: [{ Name: "name", Values: [name] }] }),
  );
  return out.Images![0].ImageId!;
}

async function stateOf(client: EC2Client, instanceId: string): Promise<string> {
  const out = await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations![0].Instances![0].State!.Name!;
}

async function launch(client: EC2Client, imageId: string): Promise<string> {
  const out = await client.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      BlockDeviceMappings: [{ DeviceName: "/dev/sdb", Ebs: { VolumeSize: 20 } }],
      TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "Vol", Value: "v" }] }],
    }),
  );
  const id = out.Instances![0].InstanceId!;
  await waitFor("running", async () => (await stateOf(client, id)) === "running" || undefined);
  return id;
}

function code(err: unknown): string {
  return (err as { name?: string }).name ?? "";
}

Deno.test("EBS: launch volumes, stop, ENA, CreateImage snapshots, encrypted copy, snapshot in use", async () => {
  await withEmulator({ imagePendingMs: 50 }, async (emulator, client) => {
    const ebsAmi = await image(client, "amzn2-ami-hvm-*");
    const storeAmi = await image(client, "amzn-ami-hvm-*");
    const instanceId = await launch(client, ebsAmi);

    const volumes = await client.send(
      new DescribeVolumesCommand({
        Filters: [{ Name: "attachment.instance-id", Values: [instanceId] }],
      }),
    );
    assert.deepEqual(
      volumes.Volumes!.map((v) => [v.Attachments![0].Device, v.Size, v.State, v.Tags?.[0]?.Key]),
      [["/dev/xvda", 8, "in-use", "Vol"], ["/dev/sdb", 20, "in-use", "Vol"]],
    );

    await assert.rejects(
      client.send(
        new ModifyInstanceAttributeCommand({
          InstanceId: instanceId,
          EnaSupport: { Value: true },
        }),
      ),
      (err) => code(err) === "IncorrectInstanceState",
    );
    const stop = await client.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    assert.equal(stop.StoppingInstances![0].CurrentState!.Name, "stopping");
    await waitFor(
      "stopped",
      async () => (await stateOf(client, instanceId)) === "stopped" || undefined,
    );
    await client.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: instanceId,
        EnaSupport: { Value: true },
      }),
    );

    const { ImageId } = await client.send(
      new CreateImageCommand({
        InstanceId: instanceId,
        Name: "ebs-test",
        BlockDeviceMappings: [{ DeviceName: "/dev/sdc", Ebs: { VolumeSize: 5 } }],
      }),
    );
    await waitFor("available", async () => {
      const out = await client.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }));
      return out.Images![0].State === "available" ? true : undefined;
    });
    const made =
      (await client.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0];
    assert.equal(made.RootDeviceType, "ebs");
    assert.equal(made.EnaSupport, true);
    const snapshotIds = made.BlockDeviceMappings!.flatMap((b) => b.Ebs?.SnapshotId ?? []);
    assert.equal(snapshotIds.length, 2, "root and /dev/sdb; /dev/sdc is an empty volume");
    const snaps = await client.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ["self"],
        Filters: [{ Name: "description", Values: [`Created by CreateImage(*) for ${ImageId} *`] }],
      }),
    );
    assert.deepEqual(snaps.Snapshots!.map((s) => s.SnapshotId).sort(), [...snapshotIds].sort());
    assert.equal(snaps.Snapshots![0].State, "completed");

    await assert.rejects(
      client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotIds[0] })),
      (err) => code(err) === "InvalidSnapshot.InUse",
    );
    await client.send(
      new ModifySnapshotAttributeCommand({
        SnapshotId: snapshotIds[0],
        Attribute: "createVolumePermission",
        CreateVolumePermission: { Add: [{ UserId: "210987654321" }] },
      }),
    );
    await client.send(
      new EnableImageDeprecationCommand({
        ImageId,
        DeprecateAt: new Date("2040-01-01T00:00:00Z"),
      }),
    );

    const west = ec2Client(emulator, { region: "us-west-2" });
    await assert.rejects(
      west.send(
        new CopyImageCommand({
          SourceImageId: ImageId,
          SourceRegion: "us-east-1",
          Name: "ebs-test",
          KmsKeyId: "alias/k",
        }),
      ),
      (err) => code(err) === "InvalidParameterDependency",
    );
    const copy = await west.send(
      new CopyImageCommand({
        SourceImageId: ImageId,
        SourceRegion: "us-east-1",
        Name: "ebs-test",
        Encrypted: true,
        KmsKeyId: "alias/k",
      }),
    );
    const copied = await west.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
    assert.equal(copied.Snapshots!.length, 2);
    assert.ok(copied.Snapshots!.every((s) => s.Encrypted && s.KmsKeyId === "alias/k"));
    assert.match(copied.Snapshots![0].Description!, new RegExp(`DestinationAmi ${copy.ImageId}`));
    west.destroy();

    await client.send(new DeregisterImageCommand({ ImageId }));
    for (const id of snapshotIds) await client.send(new DeleteSnapshotCommand({ SnapshotId: id }));
    await client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    await waitFor(
      "volumes gone",
      () => Promise.resolve(emulator.ledger().volumes.length === 0 || undefined),
    );

    const store = await client.send(
      new RunInstancesCommand({
        ImageId: storeAmi,
        InstanceType: "m3.medium",
        MinCount: 1,
        MaxCount: 1,
      }),
    );
    await assert.rejects(
      client.send(new StopInstancesCommand({ InstanceIds: [store.Instances![0].InstanceId!] })),
      (err) => code(err) === "UnsupportedOperation",
    );
  });
});
