/**
 * Fails fast, before anything is created, when the AMI name is taken
 * (unless force_deregister will free it) — as Packer's pre-validate step.
 */
import type { Step } from "../../runtime/types.ts";
import { ec2For } from "./client.ts";
import { keySpec, needsTemporaryKey } from "./key_pair.ts";
import { requireRegion } from "./region.ts";

/** The "pre-validate" step. */
export function preValidateStep(): Step<Record<string, never>> {
  return {
    id: "aws.pre_validate",
    async run(ctx) {
      // Before anything: with no region anywhere, say so instead of the SDK's "Region is missing".
      requireRegion(ctx.config);
      // The temporary key (4096-bit RSA by default: half a second or more) is
      // generated on a worker thread while this and the next steps wait on EC2.
      if (needsTemporaryKey(ctx.config)) {
        const { prefetchTemporaryKeyPair } = await import("../../communicators/keys.ts");
        prefetchTemporaryKeyPair(...keySpec(ctx.config));
      }
      if (ctx.config.force_deregister) {
        ctx.ui.say("Force Deregister flag found, skipping prevalidating AMI Name");
        return {};
      }
      const { DescribeImagesCommand } = await import("@aws-sdk/client-ec2");
      const ec2 = await ec2For(ctx);
      const name = String(ctx.config.ami_name);
      ctx.ui.say(`Prevalidating AMI Name: ${name}`);
      const out = await ec2.send(
        new DescribeImagesCommand({
          Owners: ["self"],
          Filters: [{ Name: "name", Values: [name] }],
        }),
        { abortSignal: ctx.signal },
      );
      const taken = out.Images?.[0];
      if (taken) {
        throw new Error(
          `Error: AMI Name: '${name}' is used by an existing AMI: ${taken.ImageId}`,
        );
      }
      return {};
    },
  };
}
