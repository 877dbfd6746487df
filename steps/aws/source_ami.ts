/**
 * Resolves the source AMI (`source_ami`, or `source_ami_filter` with owners
 * and most_recent) and insists on the root device its builder needs:
 * amazon-instance bundles an instance-store root, amazon-ebs snapshots an
 * EBS one.
 */
import type { Step } from "../../runtime/types.ts";
import type { EC2Client, Image } from "@aws-sdk/client-ec2";
import { ec2For, loadEc2Sdk } from "./client.ts";
import { findImage } from "./find_image.ts";

/** What later steps need to know about the source image. */
export interface SourceAmi {
  imageId: string;
  name: string;
  architecture: string;
  virtualizationType: string;
  rootDeviceType: string;
  ownerId: string;
  /** The owner's alias (ImageOwnerAlias, e.g. "amazon"); absent when the owner has none. */
  ownerAlias?: string;
  creationDate: string;
  /** The image's tags (SourceAMITags); absent in logs written before kiln recorded them. */
  tags?: Record<string, string>;
}

interface AmiFilter {
  filters?: Record<string, string>;
  owners?: string[];
  most_recent?: boolean;
}

/** The "source AMI info" step; `rootDeviceType` is the root its builder requires. */
export function sourceAmiStep(
  rootDeviceType: "instance-store" | "ebs" = "instance-store",
): Step<SourceAmi> {
  return {
    id: "aws.source_ami",
    async run(ctx) {
      const ec2 = await ec2For(ctx);
      const sourceAmi = ctx.config.source_ami as string | undefined;
      const filter = ctx.config.source_ami_filter as AmiFilter | undefined;
      ctx.ui.say("Inspecting the source AMI...");
      const image = sourceAmi ? await imageById(ec2, sourceAmi, ctx.signal) : await findImage(
        ec2,
        {
          // Packer 1.6.6 sends each filter's value as it is (no comma splitting).
          filters: Object.entries(filter?.filters ?? {}).map(([Name, value]) => ({
            Name,
            Values: [value],
          })),
          owners: filter?.owners,
          mostRecent: filter?.most_recent,
        },
        ctx.signal,
      );
      if (image.RootDeviceType !== rootDeviceType) {
        throw new Error(
          `the root device of the source AMI (${image.ImageId}) must be "${rootDeviceType}", not "${image.RootDeviceType}"`,
        );
      }
      ctx.ui.message(`Found Image ID: ${image.ImageId}`);
      return {
        imageId: image.ImageId ?? "",
        name: image.Name ?? "",
        architecture: image.Architecture ?? "x86_64",
        virtualizationType: image.VirtualizationType ?? "paravirtual",
        rootDeviceType: image.RootDeviceType ?? "",
        ownerId: image.OwnerId ?? "",
        ownerAlias: image.ImageOwnerAlias ?? "",
        creationDate: image.CreationDate ?? "",
        tags: Object.fromEntries(
          (image.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]).sort(([a], [b]) =>
            a.localeCompare(b)
          ),
        ),
      };
    },
  };
}

/** The image `source_ami` names. */
async function imageById(ec2: EC2Client, id: string, signal?: AbortSignal): Promise<Image> {
  const { DescribeImagesCommand } = await loadEc2Sdk();
  const out = await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }), {
    abortSignal: signal,
  });
  const image = out.Images?.[0];
  if (!image) throw new Error(`source AMI ${id} was not found`);
  return image;
}
