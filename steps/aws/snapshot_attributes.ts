/**
 * The AMIs' snapshots: `tags` and `snapshot_tags` (as in Packer, a snapshot
 * carries its AMI's tags too; rendered with the build template data), and
 * sharing with `snapshot_users` / `snapshot_groups` (create-volume
 * permission), in every region the build left an AMI in.
 */
import type { Step } from "../../runtime/types.ts";
import { ec2For } from "./client.ts";
import type { AmiOutput } from "./register_ami.ts";
import { renderTags } from "./template_data.ts";

/** The "snapshot attributes" step. */
export function snapshotAttributesStep(): Step<Record<string, never>> {
  return {
    id: "aws.snapshot_attributes",
    async run(ctx) {
      const { amis } = ctx.state["aws.region_copy"] as AmiOutput;
      const tags = [
        ...new Map(
          [
            ...renderTags(ctx, ctx.config.tags, ctx.config.tag),
            ...renderTags(ctx, ctx.config.snapshot_tags, ctx.config.snapshot_tag),
          ].map((t) => [t.Key, t]),
        ).values(),
      ];
      const users = (ctx.config.snapshot_users as string[] | undefined) ?? [];
      const groups = (ctx.config.snapshot_groups as string[] | undefined) ?? [];
      if (tags.length === 0 && users.length === 0 && groups.length === 0) return {};
      const sdk = await import("@aws-sdk/client-ec2");
      for (const [region, imageId] of Object.entries(amis)) {
        const ec2 = await ec2For(ctx, region);
        const out = await ec2.send(new sdk.DescribeImagesCommand({ ImageIds: [imageId] }), {
          abortSignal: ctx.signal,
        });
        const snapshots = (out.Images?.[0]?.BlockDeviceMappings ?? [])
          .flatMap((b) => b.Ebs?.SnapshotId ? [b.Ebs.SnapshotId] : []);
        if (snapshots.length === 0) continue;
        if (tags.length > 0) {
          ctx.ui.say(`Adding tags to the snapshots of AMI (${imageId})...`);
          await ec2.send(new sdk.CreateTagsCommand({ Resources: snapshots, Tags: tags }), {
            abortSignal: ctx.signal,
          });
        }
        if (users.length === 0 && groups.length === 0) continue;
        ctx.ui.say(`Sharing the snapshots of AMI (${imageId})...`);
        for (const snapshotId of snapshots) {
          await ec2.send(
            new sdk.ModifySnapshotAttributeCommand({
              SnapshotId: snapshotId,
              Attribute: "createVolumePermission",
              CreateVolumePermission: {
                Add: [
                  ...users.map((UserId) => ({ UserId })),
                  ...groups.map((Group) => ({ Group: Group as "all" })),
                ],
              },
            }),
            { abortSignal: ctx.signal },
          );
        }
      }
      return {};
    },
  };
}
