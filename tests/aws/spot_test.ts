/**
 * Spot builds end to end through the CLI: Packer 1.6.6's spot path
 * (launch template → instant fleet), the instance's spot request and
 * launch template in the ledger, kill -9 between CreateFleet and its record,
 * and the price a fleet refuses.
 */
import assert from "node:assert/strict";
import {
  amazonTemplate,
  type AwsWorkspace,
  awsWorkspace,
  interruptWhen,
  kiln,
  runEvents,
  writeTemplate,
} from "./support.ts";

const provisionMarker = [{
  type: "shell",
  inline: ['echo provisioned-by-kiln > "$KILN_INSTANCE_ROOT/etc-motd"'],
}];

/** Nothing but the AMI and its bundle is left, and no spot request is open. */
function assertOnlyTheAmi(ws: AwsWorkspace) {
  const ledger = ws.emulator.ledger();
  assert.deepEqual(ledger.instances, [], "instance terminated");
  assert.deepEqual(ledger.spotRequests, [], "spot request cancelled or closed");
  assert.deepEqual(ledger.launchTemplates, [], "launch template deleted");
  assert.deepEqual(ledger.keyPairs, []);
  assert.deepEqual(ledger.securityGroups, []);
  assert.equal(ledger.images.length, 1);
  assert.ok(ledger.s3Objects.length > 0);
  assert.deepEqual(
    ws.emulator.leaks().filter((id) => !id.startsWith("ami-") && !id.startsWith("s3://")),
    [],
  );
}

Deno.test("amazon-instance spot: launch template + instant fleet, only the AMI and its bundle left", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(
      ws,
      amazonTemplate(ws, {
        instance_type: undefined,
        spot_price: "auto",
        spot_instance_types: ["m5.large", "c5.large"],
        spot_tags: { Purpose: "spot-{{.SourceAMIName}}" },
        spot_tag: [{ key: "Team", value: "images" }],
        run_tags: { Role: "builder" },
      }, provisionMarker),
    );
    const result = await kiln(ws, ["build", template]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assertOnlyTheAmi(ws);
    const ledger = ws.emulator.ledger();
    assert.equal(ledger.launches, 1);
    assert.equal(ledger.calls.CreateLaunchTemplate, 1);
    assert.equal(ledger.calls.CreateFleet, 1);
    assert.equal(ledger.calls.RunInstances, undefined, "no on-demand launch");
    assert.equal(ledger.calls.DescribeSpotPriceHistory, undefined, '"auto" asks no price');

    const requests = ws.emulator.requests();
    const lt = requests.find((r) => r.action === "CreateLaunchTemplate")!.params;
    assert.equal(lt["LaunchTemplateData.InstanceMarketOptions.MarketType"], "spot");
    assert.equal(lt["LaunchTemplateData.InstanceMarketOptions.SpotOptions.MaxPrice"], undefined);
    assert.equal(lt["LaunchTemplateData.InstanceType"], undefined, "the overrides name the types");
    const fleet = requests.find((r) => r.action === "CreateFleet")!.params;
    assert.equal(fleet.Type, "instant");
    assert.equal(fleet["TargetCapacitySpecification.DefaultTargetCapacityType"], "spot");
    assert.equal(fleet["LaunchTemplateConfigs.1.Overrides.1.InstanceType"], "m5.large");
    assert.equal(fleet["LaunchTemplateConfigs.1.Overrides.2.InstanceType"], "c5.large");
    assert.match(fleet.ClientToken, /^[0-9a-f]{64}$/);

    // The instance ran as spot, on the cheapest type, with the run's tags.
    const instance = [...ws.emulator.emulator.instances.values()][0];
    assert.equal(instance.instanceLifecycle, "spot");
    assert.equal(instance.instanceType, "c5.large");
    const instanceTags = Object.fromEntries(ws.emulator.emulator.tags.get(instance.instanceId)!);
    assert.equal(instanceTags.Role, "builder");
    assert.equal(instanceTags["kiln:run-id"], result.runId);
    const request = ws.emulator.emulator.spotRequests.get(instance.spotInstanceRequestId!)!;
    const requestTags = Object.fromEntries(
      ws.emulator.emulator.tags.get(
        request.spotInstanceRequestId,
      )!,
    );
    assert.match(requestTags.Purpose, /^spot-ubuntu\//, "spot_tags see the build template data");
    assert.equal(requestTags.Team, "images");
    assert.equal(requestTags["kiln:run-id"], result.runId);

    const events = await runEvents(ws, result.runId!);
    const deleted = events.filter((e) => e.type === "ResourceDeleted").map((e) => e.data.kind);
    for (const kind of ["aws.spot_request", "aws.instance", "aws.launch_template"]) {
      assert.ok(deleted.includes(kind), `${kind} deleted: ${deleted.join(" ")}`);
    }
    assert.ok(
      deleted.indexOf("aws.instance") < deleted.indexOf("aws.launch_template"),
      "the template goes after the instance launched from it",
    );
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance spot: killed between CreateFleet and its record, resume launches exactly one instance", async () => {
  // The fleet's answer is lost and the cloud ignores ClientToken: only the tags find the instance.
  const ws = await awsWorkspace({
    faults: { ignoreClientToken: true, lostResponses: [{ action: "CreateFleet", nth: 1 }] },
  });
  try {
    const template = await writeTemplate(
      ws,
      amazonTemplate(ws, { spot_price: "0.05" }, provisionMarker),
    );
    const crashed = await kiln(ws, ["build", template], { KILN_CRASH_AFTER: "AwsRetry" });
    assert.notEqual(crashed.code, 0);
    assert.ok(crashed.runId, crashed.stdout + crashed.stderr);
    const events = await runEvents(ws, crashed.runId!);
    assert.equal(events.at(-1)?.type, "AwsRetry");
    assert.equal(events.at(-1)?.data.action, "CreateFleet");
    assert.ok(!events.some((e) => e.type === "ResourceCreated" && e.data.kind === "aws.instance"));
    assert.equal(ws.emulator.ledger().instances.length, 1, "the fleet did launch");

    const resumed = await kiln(ws, ["build", "--resume", crashed.runId!]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.equal(ws.emulator.ledger().launches, 1, "the resumed run adopted the instance");
    assert.equal(ws.emulator.ledger().calls.CreateFleet, 1);
    assertOnlyTheAmi(ws);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance spot: cleanup after a kill between CreateFleet and its record leaves nothing", async () => {
  const ws = await awsWorkspace({
    faults: { ignoreClientToken: true, lostResponses: [{ action: "CreateFleet", nth: 1 }] },
  });
  try {
    const template = await writeTemplate(ws, amazonTemplate(ws, { spot_price: "0.05" }));
    const crashed = await kiln(ws, ["build", template], { KILN_CRASH_AFTER: "AwsRetry" });
    assert.notEqual(crashed.code, 0);
    assert.equal(ws.emulator.ledger().instances.length, 1);
    const cleaned = await kiln(ws, ["cleanup", crashed.runId!]);
    assert.equal(cleaned.code, 0, cleaned.stdout + cleaned.stderr);
    assert.deepEqual(ws.emulator.leaks(), []);
    assert.equal(ws.emulator.ledger().launches, 1);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance spot: killed after the launch template was recorded, resume reuses it", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(
      ws,
      amazonTemplate(ws, { spot_price: "0.05" }, provisionMarker),
    );
    const crashed = await kiln(ws, ["build", template], {
      KILN_CRASH_AFTER: "ResourceCreated:aws.launch_template",
    });
    assert.notEqual(crashed.code, 0);
    assert.equal(ws.emulator.ledger().launchTemplates.length, 1);
    const resumed = await kiln(ws, ["build", "--resume", crashed.runId!]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const ledger = ws.emulator.ledger();
    assert.equal(ledger.launches, 1);
    assert.equal(ledger.calls.CreateLaunchTemplate, 1, "the template was adopted, not remade");
    assertOnlyTheAmi(ws);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance spot: a maximum price below the market fails clearly and leaks nothing", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(ws, amazonTemplate(ws, { spot_price: "0.0001" }));
    const result = await kiln(ws, ["build", template]);
    assert.notEqual(result.code, 0);
    assert.match(
      result.stdout + result.stderr,
      /no spot instance could be launched: m1\.small SpotMaxPriceTooLow/,
    );
    assert.deepEqual(ws.emulator.leaks(), []);
    assert.equal(ws.emulator.ledger().launches, 0);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance spot: Ctrl-C while provisioning cancels the request and leaks nothing", async () => {
  const ws = await awsWorkspace();
  try {
    const template = await writeTemplate(
      ws,
      amazonTemplate(ws, { spot_price: "0.05" }, [{
        type: "shell",
        inline: ["echo kiln-provisioning-sleeps", "sleep 60"],
      }]),
    );
    const result = await interruptWhen(ws, ["build", template], "kiln-provisioning-sleeps");
    assert.notEqual(result.code, 0, result.stdout + result.stderr);
    const events = await runEvents(ws, result.runId!);
    assert.equal(events.at(-1)?.data.status, "cancelled");
    assert.ok(
      events.some((e) => e.type === "ResourceDeleted" && e.data.kind === "aws.spot_request"),
    );
    assert.deepEqual(ws.emulator.leaks(), []);
    assert.equal(ws.emulator.ledger().launches, 1);
  } finally {
    await ws.close();
  }
});
