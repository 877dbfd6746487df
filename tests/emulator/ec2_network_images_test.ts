/**
 * The read side of the EC2 emulator through the real SDK: regions, zones,
 * VPCs, subnets, seeded images with owners and filters, and the EC2 error
 * shape the SDK turns into typed exceptions.
 */
import assert from "node:assert/strict";
import {
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeRegionsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
} from "@aws-sdk/client-ec2";
import { AMAZON_OWNER_ID, CANONICAL_OWNER_ID } from "../support/ec2/mod.ts";
import { ec2Client, withEmulator } from "./helpers.ts";

Deno.test("DescribeRegions and DescribeAvailabilityZones answer for the signing region", async () => {
  await withEmulator({}, async (emulator, client) => {
    const regions = await client.send(new DescribeRegionsCommand({}));
    assert.ok(regions.Regions!.some((r) => r.RegionName === "eu-west-1"));
    assert.equal(
      regions.Regions!.find((r) => r.RegionName === "us-west-2")!.Endpoint,
      "ec2.us-west-2.amazonaws.com",
    );
    const filtered = await client.send(
      new DescribeRegionsCommand({ Filters: [{ Name: "region-name", Values: ["eu-*"] }] }),
    );
    assert.deepEqual(filtered.Regions!.map((r) => r.RegionName).sort(), [
      "eu-central-1",
      "eu-west-1",
    ]);
    const west = ec2Client(emulator, { region: "us-west-2" });
    try {
      const zones = await west.send(new DescribeAvailabilityZonesCommand({}));
      assert.deepEqual(zones.AvailabilityZones!.map((z) => z.ZoneName), [
        "us-west-2a",
        "us-west-2b",
        "us-west-2c",
      ]);
      assert.equal(zones.AvailabilityZones![0].State, "available");
    } finally {
      west.destroy();
    }
  });
});

Deno.test("DescribeVpcs and DescribeSubnets resolve the default VPC and filter subnets", async () => {
  await withEmulator({}, async (_emulator, client) => {
    const vpcs = await client.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
    );
    assert.equal(vpcs.Vpcs!.length, 1);
    const vpcId = vpcs.Vpcs![0].VpcId!;
    assert.equal(vpcs.Vpcs![0].IsDefault, true);
    const subnets = await client.send(
      new DescribeSubnetsCommand({
        Filters: [{ Name: "vpc-id", Values: [vpcId] }, {
          Name: "availability-zone",
          Values: ["us-east-1b"],
        }],
      }),
    );
    assert.equal(subnets.Subnets!.length, 1);
    assert.equal(subnets.Subnets![0].DefaultForAz, true);
    const tagged = await client.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "tag:Name", Values: ["kiln-private-*"] }] }),
    );
    assert.equal(tagged.Subnets!.length, 1);
    assert.equal(tagged.Subnets![0].MapPublicIpOnLaunch, false);
    await assert.rejects(
      client.send(new DescribeSubnetsCommand({ SubnetIds: ["subnet-0123456789abcdef0"] })),
      (err: Error) => err.name === "InvalidSubnetID.NotFound",
    );
  });
});

Deno.test("DescribeImages filters by owner, root device type and name wildcards", async () => {
  await withEmulator({}, async (_emulator, client) => {
    const instanceStore = await client.send(
      new DescribeImagesCommand({
        Owners: ["amazon"],
        Filters: [{ Name: "root-device-type", Values: ["instance-store"] }],
      }),
    );
    assert.ok(instanceStore.Images!.length >= 2);
    for (const image of instanceStore.Images!) {
      assert.equal(image.RootDeviceType, "instance-store");
      assert.equal(image.OwnerId, AMAZON_OWNER_ID);
      assert.equal(image.ImageOwnerAlias, "amazon");
      assert.equal(image.State, "available");
      assert.match(image.ImageLocation!, /\.manifest\.xml$/);
    }
    const ubuntu = await client.send(
      new DescribeImagesCommand({
        Owners: [CANONICAL_OWNER_ID],
        Filters: [{ Name: "name", Values: ["ubuntu/images/hvm-instance/ubuntu-bionic-18.04-*"] }],
      }),
    );
    assert.equal(ubuntu.Images!.length, 2, "two dated builds for most_recent to choose from");
    const ebs = await client.send(
      new DescribeImagesCommand({ Filters: [{ Name: "root-device-type", Values: ["ebs"] }] }),
    );
    assert.equal(ebs.Images!.length, 1);
    assert.equal(ebs.Images![0].BlockDeviceMappings![0].Ebs!.VolumeSize, 8);
    const byId = await client.send(
      new DescribeImagesCommand({ ImageIds: [ubuntu.Images![0].ImageId!] }),
    );
    assert.equal(byId.Images![0].Name, ubuntu.Images![0].Name);
  });
});

Deno.test("errors come back in EC2's shape as typed SDK exceptions with HTTP status", async () => {
  await withEmulator({}, async (_emulator, client) => {
    const err = await client.send(
      new DescribeImagesCommand({ ImageIds: ["ami-0123456789abcdef0"] }),
    )
      .then(() => undefined, (e) => e);
    assert.equal(err.name, "InvalidAMIID.NotFound");
    assert.equal(err.message, "The image id '[ami-0123456789abcdef0]' does not exist");
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.ok(err.$metadata.requestId, "request id parsed from the error body");
    await assert.rejects(
      client.send(new DescribeImagesCommand({ ImageIds: ["not-an-ami"] })),
      (e: Error) => e.name === "InvalidAMIID.Malformed",
    );
    await assert.rejects(
      client.send(
        new DescribeImagesCommand({ Filters: [{ Name: "no-such-filter", Values: ["x"] }] }),
      ),
      (e: Error) => e.name === "InvalidParameterValue" && /no-such-filter/.test(e.message),
    );
  });
});

Deno.test("STS GetCallerIdentity answers on the same endpoint with account 123456789012", async () => {
  await withEmulator({}, async (emulator) => {
    const response = await fetch(emulator.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKIAKILNTEST00000001/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
    });
    const body = await response.text();
    assert.equal(response.status, 200);
    assert.match(body, /<Account>123456789012<\/Account>/);
    assert.match(body, /<Arn>arn:aws:iam::123456789012:user\/kiln-test<\/Arn>/);
  });
});
