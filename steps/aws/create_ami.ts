/**
 * CreateImage from the stopped build instance: an EBS AMI with one snapshot
 * per volume, `ami_block_device_mappings` laid over the instance's. The AMI
 * joins the ledger as the build's result (its snapshots go with it, see
 * ami_resource.ts). Write-ahead under the AMI's name, so a resumed run or
 * `kiln cleanup` after a kill mid-call finds it by name instead of making a
 * second one. With encrypt_boot the image first gets a temporary name: the
 * encrypted copy (region_copy.ts) takes `ami_name`.
 */
import type { Step, StepContext } from "../../runtime/types.ts";
import { blockDeviceMappings } from "./block_devices.ts";
import { ec2For, errorCode } from "./client.ts";
import { kilnTags, resourceName } from "./identity.ts";
import { regionOf } from "./region.ts";
import { adoptAmi, type AmiOutput, ownAmiByName } from "./register_ami.ts";
import type { InstanceOutput } from "./run_instance.ts";
import { renderAmiText } from "./template_data.ts";

/** The name CreateImage uses: ami_name, or a temporary one the encrypted copy replaces. */
export function createdAmiName(ctx: Pick<StepContext, "config" | "runId" | "buildName">): string {
  if (!ctx.config.encrypt_boot) return String(ctx.config.ami_name);
  return `${resourceName(ctx)}-unencrypted`.slice(0, 128);
}

/** The "create AMI" step. */
export function createAmiStep(): Step<AmiOutput> {
  return {
    id: "aws.create_ami",
    async run(ctx) {
      const { CreateImageCommand } = await import("@aws-sdk/client-ec2");
      const ec2 = await ec2For(ctx);
      const { instanceId } = ctx.state["aws.run_instance"] as InstanceOutput;
      const region = regionOf(ctx.config);
      const name = createdAmiName(ctx);
      await ctx.intent({ kind: "aws.ami", token: name, data: { region } });
      ctx.ui.say(`Creating AMI ${name} from instance ${instanceId}`);
      let imageId: string;
      try {
        const out = await ec2.send(
          new CreateImageCommand({
            InstanceId: instanceId,
            Name: name,
            Description: renderAmiText(ctx, ctx.config.ami_description),
            BlockDeviceMappings: blockDeviceMappings(ctx.config.ami_block_device_mappings),
            // The run's tags on the AMI and its snapshots: what the build made carries its run.
            TagSpecifications: [
              { ResourceType: "image", Tags: kilnTags(ctx) },
              { ResourceType: "snapshot", Tags: kilnTags(ctx) },
            ],
          }),
          { abortSignal: ctx.signal },
        );
        imageId = out.ImageId ?? "";
      } catch (err) {
        // CreateImage takes no ClientToken: when an attempt whose answer was
        // lost made the image, the SDK's retry is refused as a duplicate name.
        // The name was free when the build began (pre-validate, force_deregister),
        // so the image holding it now is that attempt's: adopt it.
        const adopted = errorCode(err) === "InvalidAMIName.Duplicate"
          ? await ownAmiByName(ctx, name)
          : undefined;
        if (!adopted) throw err;
        ctx.ui.say(`Adopting AMI ${adopted}, created by an attempt whose answer was lost`);
        imageId = adopted;
      }
      return await adoptAmi(ctx, region, imageId, true);
    },
    async reconcile(ctx, intents) {
      if (!intents.some((i) => i.kind === "aws.ami")) return undefined;
      const imageId = await ownAmiByName(ctx, createdAmiName(ctx));
      return imageId ? await adoptAmi(ctx, regionOf(ctx.config), imageId, false) : undefined;
    },
  };
}
