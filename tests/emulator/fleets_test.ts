/** Launch templates and instant fleets through the real SDK (Packer's spot path). */
import assert from "node:assert/strict";
import {
  CreateFleetCommand,
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSpotInstanceRequestsCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { waitFor, withEmulator } from "./helpers.ts";

Deno.test("CreateFleet (instant, spot) launches from a launch template; terminate closes the spot request", async () => {
  await withEmulator({}, async (emulator, client) => {
    const image = (await client.send(
      new DescribeImagesCommand({ Filters: [{ Name: "name", Values: ["amzn-ami-hvm-*"] }] }),
    )).Images![0];
    const template = await client.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: "packer-fleet-1",
        LaunchTemplateData: {
          ImageId: image.ImageId,
          InstanceMarketOptions: { MarketType: "spot", SpotOptions: { MaxPrice: "0.05" } },
          TagSpecifications: [{
            ResourceType: "instance",
            Tags: [{ Key: "kiln:run", Value: "fleet" }],
          }],
        },
      }),
    );
    const templateId = template.LaunchTemplate!.LaunchTemplateId!;
    assert.match(templateId, /^lt-[0-9a-f]{17}$/);
    await assert.rejects(
      client.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: "packer-fleet-1",
          LaunchTemplateData: { ImageId: image.ImageId },
        }),
      ),
      (e: Error) => e.name === "InvalidLaunchTemplateName.AlreadyExistsException",
    );
    const fleet = await client.send(
      new CreateFleetCommand({
        Type: "instant",
        LaunchTemplateConfigs: [{
          LaunchTemplateSpecification: { LaunchTemplateName: "packer-fleet-1", Version: "1" },
          Overrides: [{ InstanceType: "c5.large", AvailabilityZone: "us-east-1c" }],
        }],
        TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: "spot" },
      }),
    );
    assert.match(fleet.FleetId!, /^fleet-[0-9a-f-]{36}$/);
    assert.equal(fleet.Instances![0].Lifecycle, "spot");
    const instanceId = fleet.Instances![0].InstanceIds![0];
    const instance =
      (await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })))
        .Reservations![0].Instances![0];
    assert.equal(instance.InstanceType, "c5.large");
    assert.equal(instance.Placement!.AvailabilityZone, "us-east-1c");
    assert.equal(instance.InstanceLifecycle, "spot");
    assert.deepEqual(instance.Tags, [{ Key: "kiln:run", Value: "fleet" }]);

    await client.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId }));
    assert.deepEqual(
      (await client.send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates,
      [],
    );
    await client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    const request = await client.send(
      new DescribeSpotInstanceRequestsCommand({
        SpotInstanceRequestIds: [instance.SpotInstanceRequestId!],
      }),
    );
    assert.equal(request.SpotInstanceRequests![0].State, "closed");
    assert.equal(request.SpotInstanceRequests![0].Status!.Code, "instance-terminated-by-user");
    await waitFor(
      "terminated",
      () => Promise.resolve(emulator.ledger().instances.length === 0 ? true : undefined),
    );
    assert.deepEqual(emulator.leaks(), []);
  });
});
