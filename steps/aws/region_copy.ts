/**
 * Copies the AMI to every region in ami_regions. Each copy is a ledger
 * resource (deregistered if the build later fails) and carries a ClientToken
 * so a resumed run never copies twice. With encrypt_boot the build region
 * gets an encrypted copy too (kms_key_id, else region_kms_key_ids, else the
 * default EBS key) and the unencrypted original goes, snapshots and all.
 */
import type { Step, StepContext } from "../../runtime/types.ts";
import { renderAmiText } from "./template_data.ts";
import { ec2For } from "./client.ts";
import { clientToken } from "./identity.ts";
import { type AmiOutput, deleteAmi, waitAvailable } from "./register_ami.ts";
import { regionOf } from "./region.ts";

/** The AMI the copies are made from, its region, and the regions to copy to. */
function plan(ctx: StepContext) {
  const registered = (ctx.state["aws.register_ami"] ?? ctx.state["aws.create_ami"]) as AmiOutput;
  const buildRegion = regionOf(ctx.config);
  const encrypt = ctx.config.encrypt_boot === true;
  const regions = [
    ...(encrypt ? [buildRegion] : []),
    ...new Set((ctx.config.ami_regions as string[] | undefined) ?? []),
  ].filter((r, i) => i === 0 && encrypt || r !== buildRegion);
  return { registered, buildRegion, encrypt, regions };
}

/**
 * With encrypt_boot or skip_save_build_region, the original goes once every
 * copy is there (idempotent: an original already gone is fine).
 */
async function dropOriginal(
  ctx: StepContext,
  amis: Record<string, string>,
  sourceImageId: string,
): Promise<void> {
  const { buildRegion, encrypt } = plan(ctx);
  if (!encrypt && !ctx.config.skip_save_build_region) return;
  ctx.ui.say(
    encrypt
      ? `Deleting the unencrypted AMI ${sourceImageId} and its snapshots`
      : `Deregistering the AMI in the build region ${buildRegion} (skip_save_build_region)`,
  );
  await deleteAmi(ctx, buildRegion, sourceImageId);
  await ctx.deleted({ kind: "aws.ami", id: sourceImageId });
  if (!encrypt) delete amis[buildRegion];
}

/** The "region copy" step: the AMI ids by region after copying. */
export function regionCopyStep(): Step<AmiOutput> {
  return {
    id: "aws.region_copy",
    /**
     * After a kill: every copy is found by its name in its region (the
     * original may be gone already, so copying again could not work); then
     * the original is dropped as `run` would have. Any copy missing: run again.
     */
    async reconcile(ctx) {
      const { registered, buildRegion, regions } = plan(ctx);
      const { DescribeImagesCommand } = await import("@aws-sdk/client-ec2");
      const amis = { ...registered.amis };
      for (const region of regions) {
        const ec2 = await ec2For(ctx, region);
        const out = await ec2.send(
          new DescribeImagesCommand({
            Owners: ["self"],
            Filters: [{ Name: "name", Values: [String(ctx.config.ami_name)] }],
          }),
          { abortSignal: ctx.signal },
        );
        const imageId = out.Images?.[0]?.ImageId;
        if (!imageId) return undefined;
        await ctx.created({ kind: "aws.ami", id: imageId, region });
        await waitAvailable(ctx, region, imageId);
        amis[region] = imageId;
      }
      await dropOriginal(ctx, amis, registered.amis[buildRegion]);
      return { amis };
    },
    async run(ctx) {
      const { registered, buildRegion, regions } = plan(ctx);
      const amis = { ...registered.amis };
      if (regions.length === 0) return { amis };
      const sdk = await import("@aws-sdk/client-ec2");
      const kmsIds = (ctx.config.region_kms_key_ids as Record<string, string> | undefined) ?? {};
      const sourceImageId = registered.amis[buildRegion];
      for (const region of regions) {
        const ec2 = await ec2For(ctx, region);
        const token = await clientToken(ctx, `copy/${region}`);
        await ctx.intent({ kind: "aws.ami", token, data: { region } });
        ctx.ui.say(`Copying AMI (${sourceImageId}) to other regions... ${region}`);
        let out;
        try {
          out = await ec2.send(
            new sdk.CopyImageCommand({
              SourceImageId: sourceImageId,
              SourceRegion: buildRegion,
              Name: String(ctx.config.ami_name),
              Description: renderAmiText(ctx, ctx.config.ami_description),
              Encrypted: ctx.config.encrypt_boot as boolean | undefined,
              KmsKeyId: (region === buildRegion ? String(ctx.config.kms_key_id ?? "") : "") ||
                kmsIds[region] || undefined,
              ClientToken: token,
            }),
            { abortSignal: ctx.signal },
          );
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          throw new Error(`Error Copying AMI (${sourceImageId}) to region (${region}): ${why}`);
        }
        const imageId = out.ImageId ?? "";
        await ctx.created({ kind: "aws.ami", id: imageId, region });
        await waitAvailable(ctx, region, imageId);
        amis[region] = imageId;
      }
      await dropOriginal(ctx, amis, sourceImageId);
      return { amis };
    },
  };
}
