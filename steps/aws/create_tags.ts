/** Tags every AMI of the build with `tags` (rendered with the build template data). */
import type { Step } from "../../runtime/types.ts";
import { ec2For } from "./client.ts";
import type { AmiOutput } from "./register_ami.ts";
import { renderTags } from "./template_data.ts";

/** The "create tags" step. */
export function createTagsStep(): Step<Record<string, never>> {
  return {
    id: "aws.create_tags",
    async run(ctx) {
      const { amis } = ctx.state["aws.region_copy"] as AmiOutput;
      const tags = renderTags(ctx, ctx.config.tags, ctx.config.tag);
      if (tags.length === 0) return {};
      const { CreateTagsCommand } = await import("@aws-sdk/client-ec2");
      for (const [region, imageId] of Object.entries(amis)) {
        ctx.ui.say(`Adding tags to AMI (${imageId})...`);
        const ec2 = await ec2For(ctx, region);
        await ec2.send(new CreateTagsCommand({ Resources: [imageId], Tags: tags }), {
          abortSignal: ctx.signal,
        });
      }
      return {};
    },
  };
}
