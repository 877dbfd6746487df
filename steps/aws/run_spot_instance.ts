/**
 * Launches the build instance on the spot market the way Packer 1.6.6 does:
 * a launch template carrying the launch parameters and the spot options
 * (`MaxPrice` = spot_price, left out for "auto", which caps at the on-demand
 * price), then an instant EC2 Fleet of one spot instance, with an override
 * per `spot_instance_types` entry (EC2 picks the cheapest). Packer never
 * calls DescribeSpotPriceHistory here, and neither does kiln.
 *
 * Durable like run_instance.ts: the launch template, the instance and its
 * spot request each join the ledger (deleted in reverse: cancel the request,
 * terminate the instance, delete the template); CreateLaunchTemplate and
 * CreateFleet carry ClientTokens derived from run id + build; the template
 * and instance carry the run's tags, so reconcile adopts what a crashed run
 * launched instead of launching again.
 */
import type { ResourceHandler, Step, StepContext } from "../../runtime/types.ts";
import { launchBlockDevices } from "./block_devices.ts";
import { ec2For, isNotFound } from "./client.ts";
import { clientToken, kilnTagFilters, kilnTags, resourceName } from "./identity.ts";
import type { KeyPairOutput } from "./key_pair.ts";
import { launchAdopting } from "./launch_retry.ts";
import type { NetworkInfo } from "./network_info.ts";
import {
  findTagged,
  type InstanceOutput,
  launchTagSpecifications,
  metadataOptions,
  profileName,
  userData,
  waitRunning,
} from "./run_instance.ts";
import type { SecurityGroupOutput } from "./security_group.ts";
import type { SourceAmi } from "./source_ami.ts";
import { renderTags } from "./template_data.ts";
import { regionOf } from "./region.ts";

/** Ledger kind of the launch template. */
export const LAUNCH_TEMPLATE_KIND = "aws.launch_template";
/** Ledger kind of the spot request behind the instance. */
export const SPOT_REQUEST_KIND = "aws.spot_request";

type Sdk = typeof import("@aws-sdk/client-ec2");
type LaunchTemplateData = import("@aws-sdk/client-ec2").RequestLaunchTemplateData;

/** The launch parameters, as launch template data. */
async function launchTemplateData(ctx: StepContext): Promise<LaunchTemplateData> {
  const source = ctx.state["aws.source_ami"] as SourceAmi;
  const network = ctx.state["aws.network"] as NetworkInfo | undefined;
  const keyPair = ctx.state["aws.key_pair"] as KeyPairOutput | undefined;
  const groups = ctx.state["aws.security_group"] as SecurityGroupOutput | undefined;
  const types = (ctx.config.spot_instance_types as string[] | undefined) ?? [];
  const price = String(ctx.config.spot_price);
  const associate = ctx.config.associate_public_ip_address as boolean | undefined;
  const subnetId = network?.subnetId || undefined;
  const profile = profileName(ctx);
  // run_tags is late: it may use the build template data ({{.SourceAMI}}, ...).
  const runTags = Object.fromEntries(
    renderTags(ctx, ctx.config.run_tags, ctx.config.run_tag).map((t) => [t.Key, t.Value]),
  );
  return {
    ImageId: source.imageId,
    // With spot_instance_types the fleet's overrides name the type.
    InstanceType: types.length > 0
      ? undefined
      : ctx.config.instance_type as import("@aws-sdk/client-ec2")._InstanceType,
    KeyName: keyPair?.keyName || undefined,
    UserData: await userData(ctx.config),
    IamInstanceProfile: profile ? { Name: profile } : undefined,
    EbsOptimized: ctx.config.ebs_optimized as boolean | undefined,
    InstanceMarketOptions: {
      MarketType: "spot",
      SpotOptions: {
        MaxPrice: price === "auto" ? undefined : price,
        BlockDurationMinutes: Number(ctx.config.block_duration_minutes ?? 0) || undefined,
      },
    },
    Placement: {
      AvailabilityZone: network?.availabilityZone || undefined,
      Tenancy: (ctx.config.tenancy || undefined) as
        | import("@aws-sdk/client-ec2").Tenancy
        | undefined,
    },
    BlockDeviceMappings: launchBlockDevices(ctx.config),
    MetadataOptions: metadataOptions(ctx.config),
    // As Packer: a subnet or a public-IP choice goes on an explicit network interface.
    ...(subnetId || associate !== undefined
      ? {
        NetworkInterfaces: [{
          DeviceIndex: 0,
          AssociatePublicIpAddress: associate,
          SubnetId: subnetId,
          Groups: groups?.groupIds,
          DeleteOnTermination: true,
        }],
      }
      : { SecurityGroupIds: groups?.groupIds }),
    TagSpecifications: launchTagSpecifications(ctx, runTags),
  };
}

/** spot_tags + spot_tag, rendered with the build template data. */
function spotTags(ctx: StepContext): Record<string, string> {
  return Object.fromEntries(
    renderTags(ctx, ctx.config.spot_tags, ctx.config.spot_tag).map((t) => [t.Key, t.Value]),
  );
}

/** This run's launch template for this build, found by its tags. */
async function findTemplate(ctx: StepContext): Promise<string | undefined> {
  const { DescribeLaunchTemplatesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await ec2For(ctx);
  const out = await ec2.send(new DescribeLaunchTemplatesCommand({ Filters: kilnTagFilters(ctx) }));
  return out.LaunchTemplates?.[0]?.LaunchTemplateId;
}

async function createTemplate(ctx: StepContext, sdk: Sdk): Promise<string> {
  const name = resourceName(ctx).slice(0, 128);
  await ctx.intent({ kind: LAUNCH_TEMPLATE_KIND, token: name });
  ctx.ui.message("Creating Spot Fleet launch template...");
  const ec2 = await ec2For(ctx);
  let templateId: string | undefined;
  try {
    const out = await ec2.send(
      new sdk.CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        ClientToken: await clientToken(ctx, "launch_template"),
        VersionDescription: "template generated by kiln for launching spot instances",
        LaunchTemplateData: await launchTemplateData(ctx),
        TagSpecifications: [{
          ResourceType: "launch-template",
          Tags: kilnTags(ctx, spotTags(ctx)),
        }],
      }),
      { abortSignal: ctx.signal },
    );
    templateId = out.LaunchTemplate?.LaunchTemplateId;
  } catch (err) {
    // A retried call whose first answer was lost, on an endpoint without ClientToken.
    if ((err as Error).name !== "InvalidLaunchTemplateName.AlreadyExistsException") throw err;
    templateId = await findTemplate(ctx);
  }
  if (!templateId) throw new Error(`CreateLaunchTemplate returned no template for ${name}`);
  await recordTemplate(ctx, templateId);
  return templateId;
}

function recordTemplate(ctx: StepContext, templateId: string): Promise<void> {
  return ctx.created({
    kind: LAUNCH_TEMPLATE_KIND,
    id: templateId,
    region: regionOf(ctx.config),
    temporary: true,
  });
}

/** The fleet's answer when it launched nothing: EC2 lists why per override. */
function fleetFailure(errors: import("@aws-sdk/client-ec2").CreateFleetError[]): Error {
  const reasons = errors.map((e) =>
    `${
      e.LaunchTemplateAndOverrides?.Overrides?.InstanceType ?? ""
    } ${e.ErrorCode}: ${e.ErrorMessage}`
      .trim()
  );
  return new Error(
    `no spot instance could be launched: ${reasons.join("; ") || "the fleet launched nothing"}`,
  );
}

async function launchFleet(ctx: StepContext, sdk: Sdk, templateId: string): Promise<string> {
  const token = await clientToken(ctx, "spot_fleet");
  await ctx.intent({ kind: "aws.instance", token });
  const types = (ctx.config.spot_instance_types as string[] | undefined) ?? [];
  const command = new sdk.CreateFleetCommand({
    Type: "instant",
    ClientToken: token,
    ReplaceUnhealthyInstances: false,
    TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: "spot" },
    LaunchTemplateConfigs: [{
      LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: "1" },
      Overrides: types.length > 0
        ? types.map((t) => ({ InstanceType: t as import("@aws-sdk/client-ec2")._InstanceType }))
        : undefined,
    }],
    TagSpecifications: [{ ResourceType: "fleet", Tags: kilnTags(ctx) }],
  });
  return await launchAdopting(
    ctx,
    "CreateFleet",
    async (ec2) => {
      const out = await ec2.send(command, { abortSignal: ctx.signal });
      const id = out.Instances?.flatMap((i) => i.InstanceIds ?? [])[0];
      if (!id) throw fleetFailure(out.Errors ?? []);
      return id;
    },
    async () => (await findTagged(ctx))?.InstanceId,
  );
}

/** Records the instance, waits for it, then records and tags its spot request. */
async function adoptInstance(ctx: StepContext, instanceId: string): Promise<InstanceOutput> {
  const region = regionOf(ctx.config);
  await ctx.created({ kind: "aws.instance", id: instanceId, region, temporary: true });
  ctx.ui.message(`Instance ID: ${instanceId}`);
  const instance = await waitRunning(ctx, instanceId);
  const requestId = instance.spotInstanceRequestId;
  if (requestId) {
    await ctx.created({ kind: SPOT_REQUEST_KIND, id: requestId, region, temporary: true });
    const { CreateTagsCommand } = await import("@aws-sdk/client-ec2");
    const ec2 = await ec2For(ctx);
    for (const [key, value] of Object.entries(spotTags(ctx))) {
      ctx.ui.message(`Adding tag: "${key}": "${value}"`);
    }
    await ec2.send(
      new CreateTagsCommand({ Resources: [requestId], Tags: kilnTags(ctx, spotTags(ctx)) }),
      { abortSignal: ctx.signal },
    );
  }
  return instance;
}

/** The "run spot instance" step (same id and output as the on-demand one). */
export function runSpotInstanceStep(): Step<InstanceOutput> {
  // The template reconcile found and recorded; run() launches from it instead of creating one.
  let adoptedTemplate: string | undefined;
  return {
    id: "aws.run_instance",
    async run(ctx) {
      const sdk = await import("@aws-sdk/client-ec2");
      ctx.ui.say("Launching a spot AWS instance...");
      const templateId = adoptedTemplate ?? await createTemplate(ctx, sdk);
      const instanceId = await launchFleet(ctx, sdk, templateId);
      return await adoptInstance(ctx, instanceId);
    },
    async reconcile(ctx, intents) {
      const launched = intents.some((i) => i.kind === "aws.instance");
      // Once the fleet intent is logged, the template's ResourceCreated is too.
      if (!launched) {
        if (!intents.some((i) => i.kind === LAUNCH_TEMPLATE_KIND)) return undefined;
        adoptedTemplate = await findTemplate(ctx);
        if (adoptedTemplate) {
          ctx.ui.say(`Adopting launch template ${adoptedTemplate} created before the interruption`);
          await recordTemplate(ctx, adoptedTemplate);
        }
        return undefined;
      }
      adoptedTemplate = await findTemplate(ctx);
      const instance = await findTagged(ctx);
      if (!instance?.InstanceId) return undefined;
      ctx.ui.say(`Adopting spot instance ${instance.InstanceId} launched before the interruption`);
      return await adoptInstance(ctx, instance.InstanceId);
    },
  };
}

/** Deletes the launch template; an absent one counts as deleted. */
export const launchTemplateHandler: ResourceHandler = {
  async delete(ctx, resource) {
    const { DeleteLaunchTemplateCommand } = await import("@aws-sdk/client-ec2");
    const ec2 = await ec2For(ctx, resource.region);
    ctx.ui.say(`Deleting the spot launch template ${resource.id}...`);
    try {
      await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: resource.id }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  },
};

/** Cancels the spot request; a closed or absent one counts as done. */
export const spotRequestHandler: ResourceHandler = {
  async delete(ctx, resource) {
    const { CancelSpotInstanceRequestsCommand } = await import("@aws-sdk/client-ec2");
    const ec2 = await ec2For(ctx, resource.region);
    ctx.ui.say(`Cancelling the spot request ${resource.id}...`);
    try {
      await ec2.send(
        new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [resource.id] }),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  },
};
