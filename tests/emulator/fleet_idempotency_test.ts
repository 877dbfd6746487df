/**
 * Launch templates and instant fleets through the real SDK, beyond the happy
 * path fleets_test.ts walks: ClientToken idempotency (a retried call returns
 * what the first one made; other parameters → IdempotentParameterMismatch;
 * an endpoint ignoring ClientToken launches twice), the spot market refusing
 * a maximum price below it, the cheapest override winning, DescribeFleets and
 * DescribeLaunchTemplates lookups and their errors.
 */
import assert from "node:assert/strict";
import {
  CreateFleetCommand,
  type CreateFleetCommandInput,
  CreateLaunchTemplateCommand,
  DeleteFleetsCommand,
  DescribeFleetsCommand,
  type DescribeFleetsCommandInput,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  type DescribeLaunchTemplatesCommandInput,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { waitFor, withEmulator } from "./helpers.ts";

async function imageId(client: EC2Client): Promise<string> {
  const out = await client.send(
    new DescribeImagesCommand({ Filters: [{ Name: "name", Values: ["amzn-ami-hvm-*"] }] }),
  );
  return out.Images![0].ImageId!;
}

/** A spot launch template capped at `maxPrice` ("" = no cap: the on-demand price). */
async function spotTemplate(
  client: EC2Client,
  name: string,
  maxPrice = "",
  clientToken?: string,
): Promise<string> {
  const out = await client.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: name,
      ClientToken: clientToken,
      LaunchTemplateData: {
        ImageId: await imageId(client),
        InstanceType: "m5.large",
        InstanceMarketOptions: {
          MarketType: "spot",
          SpotOptions: maxPrice ? { MaxPrice: maxPrice } : undefined,
        },
      },
      TagSpecifications: [{
        ResourceType: "launch-template",
        Tags: [{ Key: "kiln:run-id", Value: name }],
      }],
    }),
  );
  return out.LaunchTemplate!.LaunchTemplateId!;
}

function fleetInput(
  templateId: string,
  types: string[],
  clientToken?: string,
): CreateFleetCommandInput {
  return {
    Type: "instant",
    ClientToken: clientToken,
    TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: "spot" },
    LaunchTemplateConfigs: [{
      LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: "1" },
      Overrides: types.map((t) => ({ InstanceType: t as never })),
    }],
    TagSpecifications: [{ ResourceType: "fleet", Tags: [{ Key: "purpose", Value: "test" }] }],
  };
}

const rejectsWith = (code: string) => (e: Error) => {
  assert.equal(e.name, code, e.message);
  return true;
};

Deno.test("CreateLaunchTemplate: the same ClientToken returns the first template; other parameters are refused", async () => {
  await withEmulator({}, async (emulator, client) => {
    const first = await spotTemplate(client, "kiln-lt-a", "0.05", "token-a");
    assert.equal(await spotTemplate(client, "kiln-lt-a", "0.05", "token-a"), first, "a retry");
    assert.equal(emulator.ledger().launchTemplates.length, 1);
    await assert.rejects(
      spotTemplate(client, "kiln-lt-a", "0.09", "token-a"),
      rejectsWith("IdempotentParameterMismatch"),
    );
    // Another token with the same name is a second template, which EC2 refuses by name.
    await assert.rejects(
      spotTemplate(client, "kiln-lt-a", "0.05", "token-b"),
      rejectsWith("InvalidLaunchTemplateName.AlreadyExistsException"),
    );
    await assert.rejects(
      spotTemplate(client, "no spaces allowed", "0.05"),
      rejectsWith("InvalidLaunchTemplateName.MalformedException"),
    );
    assert.deepEqual(emulator.ledger().launchTemplates.map((t) => t.launchTemplateId), [first]);
  });
});

Deno.test("CreateLaunchTemplate on an endpoint that ignores ClientToken: the retry collides on the name", async () => {
  await withEmulator({ faults: { ignoreClientToken: true } }, async (emulator, client) => {
    await spotTemplate(client, "kiln-lt-b", "0.05", "token-a");
    await assert.rejects(
      spotTemplate(client, "kiln-lt-b", "0.05", "token-a"),
      rejectsWith("InvalidLaunchTemplateName.AlreadyExistsException"),
    );
    assert.equal(emulator.ledger().launchTemplates.length, 1);
  });
});

Deno.test("DescribeLaunchTemplates by id, by name and by tag; unknown ones are errors", async () => {
  await withEmulator({}, async (_emulator, client) => {
    const a = await spotTemplate(client, "kiln-lt-one");
    const b = await spotTemplate(client, "kiln-lt-two");
    const ids = async (input: DescribeLaunchTemplatesCommandInput) =>
      ((await client.send(new DescribeLaunchTemplatesCommand(input))).LaunchTemplates ?? [])
        .map((t) => t.LaunchTemplateId).sort();
    assert.deepEqual(await ids({}), [a, b].sort());
    assert.deepEqual(await ids({ LaunchTemplateIds: [b] }), [b]);
    assert.deepEqual(await ids({ LaunchTemplateNames: ["kiln-lt-one"] }), [a]);
    assert.deepEqual(
      await ids({ Filters: [{ Name: "tag:kiln:run-id", Values: ["kiln-lt-two"] }] }),
      [b],
    );
    assert.deepEqual(
      await ids({ Filters: [{ Name: "launch-template-name", Values: ["kiln-lt-*"] }] }),
      [a, b].sort(),
    );
    const described = (await client.send(
      new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [a] }),
    )).LaunchTemplates![0];
    assert.equal(described.LaunchTemplateName, "kiln-lt-one");
    assert.equal(described.DefaultVersionNumber, 1);
    assert.deepEqual(described.Tags, [{ Key: "kiln:run-id", Value: "kiln-lt-one" }]);
    await assert.rejects(
      client.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ["kiln-lt-none"] })),
      rejectsWith("InvalidLaunchTemplateName.NotFoundException"),
    );
    await assert.rejects(
      client.send(
        new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ["lt-0123456789abcdef0"] }),
      ),
      rejectsWith("InvalidLaunchTemplateId.NotFound"),
    );
  });
});

Deno.test("CreateFleet: a retry with the same ClientToken returns the same fleet and launches nothing more", async () => {
  // The first answer is lost after the fleet launched: exactly what the token is for.
  await withEmulator(
    { faults: { lostResponses: [{ action: "CreateFleet", nth: 1 }] } },
    async (emulator, client) => {
      const template = await spotTemplate(client, "kiln-fleet-retry");
      const input = fleetInput(template, ["m5.large"], "fleet-token-1");
      await assert.rejects(
        client.send(new CreateFleetCommand(input)),
        rejectsWith("InternalError"),
      );
      assert.equal(emulator.ledger().launches, 1, "the lost call did launch");
      const retried = await client.send(new CreateFleetCommand(input));
      assert.equal(retried.Instances![0].InstanceIds!.length, 1);
      assert.equal(emulator.ledger().launches, 1, "the retry adopted the first launch");
      const [fleet] = (await client.send(new DescribeFleetsCommand({}))).Fleets!;
      assert.equal(fleet.FleetId, retried.FleetId);
      assert.equal(fleet.ClientToken, "fleet-token-1");

      await assert.rejects(
        client.send(new CreateFleetCommand(fleetInput(template, ["c5.large"], "fleet-token-1"))),
        rejectsWith("IdempotentParameterMismatch"),
      );
      assert.equal(emulator.ledger().launches, 1);
    },
  );
});

Deno.test("CreateFleet on an endpoint that ignores ClientToken launches again on a retry", async () => {
  await withEmulator({ faults: { ignoreClientToken: true } }, async (emulator, client) => {
    const template = await spotTemplate(client, "kiln-fleet-twice");
    const input = fleetInput(template, ["m5.large"], "fleet-token-1");
    const first = await client.send(new CreateFleetCommand(input));
    const second = await client.send(new CreateFleetCommand(input));
    assert.notEqual(second.FleetId, first.FleetId);
    assert.equal(emulator.ledger().launches, 2, "why kiln finds its instance by tag first");
  });
});

Deno.test("CreateFleet: a MaxPrice below the spot market launches nothing and says why per override", async () => {
  await withEmulator({}, async (emulator, client) => {
    const template = await spotTemplate(client, "kiln-fleet-cheap", "0.001");
    const out = await client.send(
      new CreateFleetCommand(fleetInput(template, ["m5.large", "c5.large"])),
    );
    assert.deepEqual(out.Instances, []);
    assert.deepEqual(
      out.Errors!.map((e) => [e.LaunchTemplateAndOverrides?.Overrides?.InstanceType, e.ErrorCode]),
      [["c5.large", "SpotMaxPriceTooLow"], ["m5.large", "SpotMaxPriceTooLow"]],
    );
    assert.match(out.Errors![0].ErrorMessage!, /price of 0\.001 is lower than .* 0\.0225/);
    const ledger = emulator.ledger();
    assert.equal(ledger.launches, 0);
    assert.deepEqual(ledger.spotRequests, [], "no spot request is left open");
    const [fleet] = (await client.send(new DescribeFleetsCommand({ FleetIds: [out.FleetId!] })))
      .Fleets!;
    assert.equal(fleet.FulfilledCapacity, 0);
    assert.equal(fleet.Errors![0].ErrorCode, "SpotMaxPriceTooLow");
  });
});

Deno.test("CreateFleet launches the cheapest override; DescribeFleets filters; DeleteFleets terminates", async () => {
  await withEmulator({}, async (emulator, client) => {
    const template = await spotTemplate(client, "kiln-fleet-cheapest");
    // Spot prices: t3.large 0.02 < c5.large 0.0225 < m5.large 0.025 (spot_prices.ts).
    const out = await client.send(
      new CreateFleetCommand(fleetInput(template, ["m5.large", "t3.large", "c5.large"])),
    );
    assert.deepEqual(out.Errors, []);
    assert.equal(out.Instances![0].InstanceType, "t3.large");
    const instanceId = out.Instances![0].InstanceIds![0];
    const instance =
      (await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })))
        .Reservations![0].Instances![0];
    assert.equal(instance.InstanceType, "t3.large");
    assert.equal(instance.InstanceLifecycle, "spot");

    const fleetIds = async (input: DescribeFleetsCommandInput) =>
      ((await client.send(new DescribeFleetsCommand(input))).Fleets ?? []).map((f) => f.FleetId);
    assert.deepEqual(await fleetIds({ Filters: [{ Name: "type", Values: ["instant"] }] }), [
      out.FleetId,
    ]);
    assert.deepEqual(await fleetIds({ Filters: [{ Name: "tag:purpose", Values: ["test"] }] }), [
      out.FleetId,
    ]);
    assert.deepEqual(
      await fleetIds({ Filters: [{ Name: "fleet-state", Values: ["deleted"] }] }),
      [],
    );
    await assert.rejects(
      client.send(
        new DescribeFleetsCommand({ FleetIds: ["fleet-00000000-0000-0000-0000-000000000000"] }),
      ),
      rejectsWith("InvalidFleetId.NotFound"),
    );

    const deleted = await client.send(
      new DeleteFleetsCommand({ FleetIds: [out.FleetId!], TerminateInstances: true }),
    );
    assert.equal(deleted.SuccessfulFleetDeletions![0].CurrentFleetState, "deleted");
    assert.deepEqual(await fleetIds({ Filters: [{ Name: "fleet-state", Values: ["deleted"] }] }), [
      out.FleetId,
    ]);
    await waitFor(
      "the fleet's instance to terminate",
      () => Promise.resolve(emulator.ledger().instances.length === 0 ? true : undefined),
    );
    assert.deepEqual(emulator.ledger().spotRequests, [], "its spot request closed with it");
  });
});

Deno.test("CreateFleet refuses what it cannot launch: other fleet types, a missing template, no capacity", async () => {
  await withEmulator({}, async (emulator, client) => {
    const template = await spotTemplate(client, "kiln-fleet-bad");
    await assert.rejects(
      client.send(new CreateFleetCommand({ ...fleetInput(template, []), Type: "maintain" })),
      rejectsWith("UnsupportedOperation"),
    );
    await assert.rejects(
      client.send(new CreateFleetCommand(fleetInput("lt-0123456789abcdef0", []))),
      rejectsWith("InvalidLaunchTemplateId.NotFound"),
    );
    await assert.rejects(
      client.send(
        new CreateFleetCommand({
          ...fleetInput(template, []),
          TargetCapacitySpecification: { TotalTargetCapacity: 0 },
        }),
      ),
      rejectsWith("MissingParameter"),
    );
    assert.equal(emulator.ledger().launches, 0);
  });
});
