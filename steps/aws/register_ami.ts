/**
 * Registers the uploaded bundle as an AMI. The AMI is the build's result: it
 * joins the ledger as a non-temporary resource, so a later failure (region
 * copy, attributes, tags) deregisters it instead of leaking it as Packer does.
 * On resume, an AMI of this name owned by us is adopted, not registered twice.
 */
import type { ResourceHandler, Step, StepContext } from "../../runtime/types.ts";
import { blockDeviceMappings } from "./block_devices.ts";
import { renderAmiText } from "./template_data.ts";
import { ec2For, isNotFound } from "./client.ts";
import type { SourceAmi } from "./source_ami.ts";
import type { UploadOutput } from "./upload_bundle.ts";
import { polling, waitFor } from "./wait.ts";
import { regionOf } from "./region.ts";

/** AMI ids by region (copies are added by the region-copy step). */
export interface AmiOutput {
  amis: Record<string, string>;
}

/** Waits for an AMI to become available in a region. */
export async function waitAvailable(
  ctx: StepContext,
  region: string,
  imageId: string,
): Promise<void> {
  const { DescribeImagesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await ec2For(ctx, region);
  await waitFor(`AMI ${imageId} to become available`, polling(ctx.config), ctx.signal, async () => {
    try {
      const out = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
      const state = out.Images?.[0]?.State;
      if (state === "available") return true;
      if (state === "failed" || state === "invalid" || state === "error") {
        throw new Error(`AMI ${imageId} is in state "${state}"`);
      }
      return undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
}

/** Our AMI named `name` in the build's region, if there is one. */
export async function ownAmiByName(ctx: StepContext, name: string): Promise<string | undefined> {
  const { DescribeImagesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await ec2For(ctx);
  const out = await ec2.send(
    new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "name", Values: [name] }] }),
    { abortSignal: ctx.signal },
  );
  return out.Images?.[0]?.ImageId;
}

/**
 * Takes an AMI the step made (or a lost attempt of it made) into the ledger
 * and waits for it: the step's output. `announce` prints what a fresh
 * creation prints; a reconcile is quiet.
 */
export async function adoptAmi(
  ctx: StepContext,
  region: string,
  imageId: string,
  announce: boolean,
): Promise<AmiOutput> {
  await ctx.created({ kind: "aws.ami", id: imageId, region });
  if (announce) {
    ctx.ui.message(`AMI: ${imageId}`);
    ctx.ui.say("Waiting for AMI to become ready...");
  }
  await waitAvailable(ctx, region, imageId);
  return { amis: { [region]: imageId } };
}

/** The "register AMI" step. */
export function registerAmiStep(): Step<AmiOutput> {
  return {
    id: "aws.register_ami",
    async run(ctx) {
      const { RegisterImageCommand } = await import("@aws-sdk/client-ec2");
      const ec2 = await ec2For(ctx);
      const upload = ctx.state["aws.upload_bundle"] as UploadOutput;
      const source = ctx.state["aws.source_ami"] as SourceAmi;
      const region = regionOf(ctx.config);
      const name = String(ctx.config.ami_name);
      await ctx.intent({ kind: "aws.ami", token: name, data: { region } });
      ctx.ui.say("Registering the AMI...");
      const out = await ec2.send(
        new RegisterImageCommand({
          Name: name,
          Description: renderAmiText(ctx, ctx.config.ami_description),
          ImageLocation: upload.imageLocation,
          Architecture: source.architecture as import("@aws-sdk/client-ec2").ArchitectureValues,
          VirtualizationType: String(
            ctx.config.ami_virtualization_type || source.virtualizationType,
          ),
          BlockDeviceMappings: blockDeviceMappings(ctx.config.ami_block_device_mappings),
          EnaSupport: ctx.config.ena_support as boolean | undefined,
          SriovNetSupport: ctx.config.sriov_support ? "simple" : undefined,
          TpmSupport: ctx.config.tpm_support as import("@aws-sdk/client-ec2").TpmSupportValues,
          ImdsSupport: ctx.config.imds_support as import("@aws-sdk/client-ec2").ImdsSupportValues,
        }),
        { abortSignal: ctx.signal },
      );
      return await adoptAmi(ctx, region, out.ImageId ?? "", true);
    },
    async reconcile(ctx, intents) {
      if (!intents.some((i) => i.kind === "aws.ami")) return undefined;
      const imageId = await ownAmiByName(ctx, String(ctx.config.ami_name));
      return imageId ? await adoptAmi(ctx, regionOf(ctx.config), imageId, false) : undefined;
    },
  };
}

/**
 * Deregisters an AMI and deletes its snapshots (an EBS AMI's snapshots are
 * part of it; instance-store AMIs have none). The snapshots are those its
 * mappings name plus every snapshot of ours whose EC2-written description
 * names the AMI, so a kill between the deregistration and the deletions
 * leaves nothing a second attempt cannot find.
 */
export async function deleteAmi(
  caller: Parameters<typeof ec2For>[0],
  region: string,
  imageId: string,
): Promise<void> {
  const sdk = await import("@aws-sdk/client-ec2");
  const ec2 = await ec2For(caller, region);
  const snapshots = new Set<string>();
  try {
    const out = await ec2.send(new sdk.DescribeImagesCommand({ ImageIds: [imageId] }));
    for (const b of out.Images?.[0]?.BlockDeviceMappings ?? []) {
      if (b.Ebs?.SnapshotId) snapshots.add(b.Ebs.SnapshotId);
    }
    await ec2.send(new sdk.DeregisterImageCommand({ ImageId: imageId }));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const described = await ec2.send(
    new sdk.DescribeSnapshotsCommand({
      OwnerIds: ["self"],
      // EC2's own words for the snapshots it made for this AMI (and for no other:
      // a copy's snapshots name their source AMI too, after "from SourceAmi").
      Filters: [{
        Name: "description",
        Values: [
          `Created by CreateImage(*) for ${imageId} *`,
          `Copied for DestinationAmi ${imageId} *`,
        ],
      }],
    }),
  );
  for (const s of described.Snapshots ?? []) if (s.SnapshotId) snapshots.add(s.SnapshotId);
  for (const snapshotId of snapshots) {
    try {
      await ec2.send(new sdk.DeleteSnapshotCommand({ SnapshotId: snapshotId }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** Deregisters an AMI and deletes its snapshots. */
export const amiHandler: ResourceHandler = {
  async delete(ctx, resource) {
    ctx.ui.say(
      `Deregistering the AMI ${resource.id} (${resource.region}) because the build failed`,
    );
    await deleteAmi(ctx, String(resource.region), resource.id);
  },
};
