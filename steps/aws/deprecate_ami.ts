/** `deprecate_at`: EnableImageDeprecation on every AMI of the build, in every region. */
import type { Step } from "../../runtime/types.ts";
import { ec2For } from "./client.ts";
import type { AmiOutput } from "./register_ami.ts";

/** The "deprecate AMI" step: EnableImageDeprecation on every AMI when `deprecate_at` is set. */
export function deprecateAmiStep(): Step<Record<string, never>> {
  return {
    id: "aws.deprecate_ami",
    async run(ctx) {
      const at = String(ctx.config.deprecate_at ?? "");
      if (!at) return {};
      const { EnableImageDeprecationCommand } = await import("@aws-sdk/client-ec2");
      const { amis } = ctx.state["aws.region_copy"] as AmiOutput;
      for (const [region, imageId] of Object.entries(amis)) {
        ctx.ui.say(`Setting AMI (${imageId}) deprecation to ${at}`);
        const ec2 = await ec2For(ctx, region);
        await ec2.send(
          new EnableImageDeprecationCommand({ ImageId: imageId, DeprecateAt: new Date(at) }),
          { abortSignal: ctx.signal },
        );
      }
      return {};
    },
  };
}
