/**
 * force_deregister: removes an existing AMI of the same name (in the build
 * region and every copy region), and with force_delete_snapshot its snapshots.
 */
import type { Step } from "../../runtime/types.ts";
import { ec2For, isNotFound } from "./client.ts";
import { regionOf } from "./region.ts";

/** The "deregister existing AMI" step. */
export function deregisterAmiStep(): Step<{ deregistered: string[] }> {
  return {
    id: "aws.deregister_ami",
    async run(ctx) {
      if (!ctx.config.force_deregister) return { deregistered: [] };
      const sdk = await import("@aws-sdk/client-ec2");
      const name = String(ctx.config.ami_name);
      const regions = [regionOf(ctx.config), ...(ctx.config.ami_regions as string[] ?? [])];
      const deregistered: string[] = [];
      for (const region of new Set(regions)) {
        const ec2 = await ec2For(ctx, region);
        const out = await ec2.send(
          new sdk.DescribeImagesCommand({
            Owners: ["self"],
            Filters: [{ Name: "name", Values: [name] }],
          }),
          { abortSignal: ctx.signal },
        );
        for (const image of out.Images ?? []) {
          ctx.ui.say(`Deregistered AMI ${name}, id: ${image.ImageId}`);
          try {
            await ec2.send(new sdk.DeregisterImageCommand({ ImageId: image.ImageId }));
          } catch (err) {
            if (!isNotFound(err)) throw err;
          }
          deregistered.push(`${region}:${image.ImageId}`);
          if (!ctx.config.force_delete_snapshot) continue;
          for (const device of image.BlockDeviceMappings ?? []) {
            const snapshotId = device.Ebs?.SnapshotId;
            if (!snapshotId) continue;
            ctx.ui.say(`Deleted snapshot: ${snapshotId}`);
            try {
              await ec2.send(new sdk.DeleteSnapshotCommand({ SnapshotId: snapshotId }));
            } catch (err) {
              if (!isNotFound(err)) throw err;
            }
          }
        }
      }
      return { deregistered };
    },
  };
}
