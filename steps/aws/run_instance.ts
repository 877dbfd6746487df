/**
 * Launches the build instance. RunInstances carries a ClientToken derived
 * from run id + build, and the instance is tagged with both, so a resumed
 * run adopts the instance the crashed one launched instead of launching a
 * second: reconcile looks by tag first (some EC2-compatible endpoints ignore
 * ClientToken), and only then lets run() call RunInstances again.
 */
import type { ResourceHandler, Step, StepContext } from "../../runtime/types.ts";
import { launchBlockDevices } from "./block_devices.ts";
import { ec2For, errorCode, isNotFound } from "./client.ts";
import type { IamProfileOutput } from "./iam_instance_profile.ts";
import { launchAdopting } from "./launch_retry.ts";
import { clientToken, kilnTagFilters, kilnTags } from "./identity.ts";
import type { KeyPairOutput } from "./key_pair.ts";
import type { NetworkInfo } from "./network_info.ts";
import type { SecurityGroupOutput } from "./security_group.ts";
import type { SourceAmi } from "./source_ami.ts";
import { renderTags } from "./template_data.ts";
import { polling, sleep, waitFor } from "./wait.ts";
import { regionOf } from "./region.ts";

/** The running instance. */
export interface InstanceOutput {
  instanceId: string;
  publicIp: string;
  privateIp: string;
  publicDns: string;
  privateDns: string;
  availabilityZone: string;
  /** Set when the instance is in a VPC: decides the default SSH address. */
  vpcId: string;
  /** The spot request behind a spot instance. */
  spotInstanceRequestId?: string;
}

/** The instance profile to launch with: the temporary one, or `iam_instance_profile`. */
export function profileName(ctx: StepContext): string {
  const step = ctx.state["aws.iam_instance_profile"] as IamProfileOutput | undefined;
  return step?.profileName || String(ctx.config.iam_instance_profile ?? "");
}

type Instance = import("@aws-sdk/client-ec2").Instance;

function toOutput(instance: Instance): InstanceOutput {
  return {
    instanceId: instance.InstanceId ?? "",
    publicIp: instance.PublicIpAddress ?? "",
    privateIp: instance.PrivateIpAddress ?? "",
    publicDns: instance.PublicDnsName ?? "",
    privateDns: instance.PrivateDnsName ?? "",
    availabilityZone: instance.Placement?.AvailabilityZone ?? "",
    vpcId: instance.VpcId ?? "",
    ...(instance.SpotInstanceRequestId
      ? { spotInstanceRequestId: instance.SpotInstanceRequestId }
      : {}),
  };
}

/** user_data / user_data_file, base64-encoded, as a launch takes it. */
export function userData(config: Record<string, unknown>): Promise<string | undefined> | undefined {
  if (config.user_data) return Promise.resolve(btoa(String(config.user_data)));
  if (config.user_data_file) {
    return Deno.readFile(String(config.user_data_file)).then((bytes) => {
      let binary = "";
      for (const b of bytes) binary += String.fromCharCode(b);
      return btoa(binary);
    });
  }
  return undefined;
}

/**
 * The instance's tags (run_tags and kiln's) and its volumes' (run_volume_tags
 * and kiln's, so a volume is found by run like everything else the build
 * makes) when it has any: an EBS root or EBS launch mappings.
 */
export function launchTagSpecifications(
  ctx: StepContext,
  runTags: Record<string, string>,
): { ResourceType: "instance" | "volume"; Tags: { Key: string; Value: string }[] }[] {
  const volumeTags = renderTags(ctx, ctx.config.run_volume_tags, ctx.config.run_volume_tag);
  const source = ctx.state["aws.source_ami"] as SourceAmi | undefined;
  const hasVolumes = volumeTags.length > 0 || source?.rootDeviceType === "ebs" ||
    launchBlockDevices(ctx.config).some((m) => m.Ebs);
  const volumes = Object.fromEntries(volumeTags.map((t) => [t.Key, t.Value]));
  return [
    { ResourceType: "instance", Tags: kilnTags(ctx, runTags) },
    ...(hasVolumes ? [{ ResourceType: "volume" as const, Tags: kilnTags(ctx, volumes) }] : []),
  ];
}

/** `metadata_options` (IMDSv2 and friends) as RunInstances takes them; unset: EC2's defaults. */
export function metadataOptions(
  config: Record<string, unknown>,
): import("@aws-sdk/client-ec2").InstanceMetadataOptionsRequest | undefined {
  const m = config.metadata_options as Record<string, unknown> | undefined;
  if (!m) return undefined;
  type Opts = import("@aws-sdk/client-ec2").InstanceMetadataOptionsRequest;
  return {
    HttpEndpoint: (m.http_endpoint || undefined) as Opts["HttpEndpoint"],
    HttpTokens: (m.http_tokens || undefined) as Opts["HttpTokens"],
    HttpPutResponseHopLimit: (m.http_put_response_hop_limit || undefined) as number | undefined,
    InstanceMetadataTags: (m.instance_metadata_tags || undefined) as Opts["InstanceMetadataTags"],
  };
}

/** Waits until the instance runs and returns its addresses. */
export async function waitRunning(
  ctx: StepContext,
  instanceId: string,
): Promise<InstanceOutput> {
  const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await ec2For(ctx);
  ctx.ui.say(`Waiting for instance (${instanceId}) to become ready...`);
  return await waitFor(
    `instance ${instanceId} to be running`,
    polling(ctx.config),
    ctx.signal,
    async () => {
      try {
        const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), {
          abortSignal: ctx.signal,
        });
        const instance = out.Reservations?.[0]?.Instances?.[0];
        const state = instance?.State?.Name;
        if (state === "running") return toOutput(instance!);
        if (state && state !== "pending") {
          throw new Error(
            `instance ${instanceId} entered state "${state}" instead of running` +
              (instance?.StateReason?.Message ? `: ${instance.StateReason.Message}` : ""),
          );
        }
        return undefined;
      } catch (err) {
        if (isNotFound(err)) return undefined; // eventual consistency right after launch
        throw err;
      }
    },
  );
}

/** Finds this run's instance for this build by its tags (not terminated). */
export async function findTagged(ctx: StepContext): Promise<Instance | undefined> {
  const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await ec2For(ctx);
  const out = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        ...kilnTagFilters(ctx),
        {
          Name: "instance-state-name",
          Values: ["pending", "running", "stopping", "stopped"],
        },
      ],
    }),
  );
  return out.Reservations?.flatMap((r) => r.Instances ?? [])[0];
}

/** The "run instance" step. */
export function runInstanceStep(): Step<InstanceOutput> {
  return {
    id: "aws.run_instance",
    async run(ctx) {
      const { RunInstancesCommand } = await import("@aws-sdk/client-ec2");
      const source = ctx.state["aws.source_ami"] as SourceAmi;
      const network = ctx.state["aws.network"] as NetworkInfo | undefined;
      const keyPair = ctx.state["aws.key_pair"] as KeyPairOutput | undefined;
      const groups = ctx.state["aws.security_group"] as SecurityGroupOutput | undefined;
      const token = await clientToken(ctx, "run_instance");
      // run_tags is late: it may use the build template data ({{.SourceAMI}}, ...).
      const runTags = Object.fromEntries(
        renderTags(ctx, ctx.config.run_tags, ctx.config.run_tag).map((t) => [t.Key, t.Value]),
      );
      const associate = ctx.config.associate_public_ip_address as boolean | undefined;

      await ctx.intent({ kind: "aws.instance", token });
      ctx.ui.say("Launching a source AWS instance...");
      const command = new RunInstancesCommand({
        ImageId: source.imageId,
        InstanceType: ctx.config.instance_type as import("@aws-sdk/client-ec2")._InstanceType,
        MinCount: 1,
        MaxCount: 1,
        ClientToken: token,
        KeyName: keyPair?.keyName || undefined,
        UserData: await userData(ctx.config),
        IamInstanceProfile: profileName(ctx) ? { Name: profileName(ctx) } : undefined,
        InstanceInitiatedShutdownBehavior: ctx.config.shutdown_behavior as
          | import("@aws-sdk/client-ec2").ShutdownBehavior
          | undefined,
        EbsOptimized: ctx.config.ebs_optimized as boolean | undefined,
        Placement: {
          AvailabilityZone: network?.availabilityZone || undefined,
          Tenancy: (ctx.config.tenancy ?? ctx.config.placement_tenancy) as
            | import("@aws-sdk/client-ec2").Tenancy
            | undefined,
        },
        BlockDeviceMappings: launchBlockDevices(ctx.config),
        // A public-IP choice needs an explicit network interface; otherwise subnet + groups.
        ...(associate === undefined
          ? { SubnetId: network?.subnetId || undefined, SecurityGroupIds: groups?.groupIds }
          : {
            NetworkInterfaces: [{
              DeviceIndex: 0,
              AssociatePublicIpAddress: associate,
              SubnetId: network?.subnetId || undefined,
              Groups: groups?.groupIds,
              DeleteOnTermination: true,
            }],
          }),
        MetadataOptions: metadataOptions(ctx.config),
        TagSpecifications: launchTagSpecifications(ctx, runTags),
      });
      const instanceId = await launchAdopting(
        ctx,
        "RunInstances",
        async (ec2) => {
          const out = await ec2.send(command, { abortSignal: ctx.signal });
          const id = out.Instances?.[0]?.InstanceId;
          if (!id) throw new Error("RunInstances returned no instance");
          return id;
        },
        async () => (await findTagged(ctx))?.InstanceId,
      );
      await ctx.created({
        kind: "aws.instance",
        id: instanceId,
        region: regionOf(ctx.config),
        temporary: true,
      });
      ctx.ui.message(`Instance ID: ${instanceId}`);
      return await waitRunning(ctx, instanceId);
    },
    async reconcile(ctx, intents) {
      if (!intents.some((i) => i.kind === "aws.instance")) return undefined;
      const instance = await findTagged(ctx);
      if (!instance?.InstanceId) return undefined;
      ctx.ui.say(`Adopting instance ${instance.InstanceId} launched before the interruption`);
      await ctx.created({
        kind: "aws.instance",
        id: instance.InstanceId,
        region: regionOf(ctx.config),
        temporary: true,
      });
      return await waitRunning(ctx, instance.InstanceId);
    },
  };
}

/**
 * The volumes a launch mapping asked to keep past termination
 * (`delete_on_termination: false`): read before terminating, only when the
 * template has such a mapping, so plain builds make no extra call.
 */
async function keptVolumes(
  ctx: { config: Record<string, unknown> },
  ec2: import("@aws-sdk/client-ec2").EC2Client,
  instanceId: string,
): Promise<string[]> {
  const mappings =
    (ctx.config.launch_block_device_mappings as Record<string, unknown>[] | undefined) ??
      [];
  if (!mappings.some((m) => m.delete_on_termination === false)) return [];
  const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
  try {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return (out.Reservations?.[0]?.Instances?.[0]?.BlockDeviceMappings ?? [])
      .filter((b) => b.Ebs?.DeleteOnTermination === false && b.Ebs.VolumeId)
      .map((b) => b.Ebs!.VolumeId!);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** Deletes the build instance's kept volumes once it is terminated, as Packer's volume cleanup. */
async function deleteVolumes(
  ctx: { ui: { say(message: string): void } },
  ec2: import("@aws-sdk/client-ec2").EC2Client,
  volumeIds: string[],
): Promise<void> {
  const { DeleteVolumeCommand } = await import("@aws-sdk/client-ec2");
  for (const volumeId of volumeIds) {
    ctx.ui.say(`Deleting the build instance's volume ${volumeId}`);
    try {
      await ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId }));
    } catch (err) {
      if (errorCode(err) !== "InvalidVolume.NotFound") throw err;
    }
  }
}

/** Terminates an instance and waits until it is gone, so its security group can be deleted. */
export const instanceHandler: ResourceHandler = {
  async delete(ctx, resource) {
    const { DescribeInstancesCommand, TerminateInstancesCommand } = await import(
      "@aws-sdk/client-ec2"
    );
    const ec2 = await ec2For(ctx, resource.region);
    const kept = await keptVolumes(ctx, ec2, resource.id);
    ctx.ui.say(`Terminating the source AWS instance ${resource.id}...`);
    try {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [resource.id] }));
    } catch (err) {
      if (isNotFound(err)) return await deleteVolumes(ctx, ec2, kept);
      throw err;
    }
    const settings = polling(ctx.config);
    for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
      try {
        const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [resource.id] }));
        const state = out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
        if (!state || state === "terminated") return await deleteVolumes(ctx, ec2, kept);
      } catch (err) {
        if (isNotFound(err)) return await deleteVolumes(ctx, ec2, kept);
        throw err;
      }
      await sleep(settings.delayMs, ctx.signal);
    }
    throw new Error(`instance ${resource.id} did not terminate in time`);
  },
};
