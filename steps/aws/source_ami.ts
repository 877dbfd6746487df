/**
 * Resolves the source AMI (`source_ami`, or `source_ami_filter` with owners
 * and most_recent) and insists it is instance-store backed: bundling only
 * works from an instance-store root.
 */
import type { Step } from "../../runtime/types.ts";
import { ec2For } from "./client.ts";

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

/** The "source AMI info" step. */
export function sourceAmiStep(): Step<SourceAmi> {
  return {
    id: "aws.source_ami",
    async run(ctx) {
      const { DescribeImagesCommand } = await import("@aws-sdk/client-ec2");
      const ec2 = await ec2For(ctx);
      const sourceAmi = ctx.config.source_ami as string | undefined;
      const filter = ctx.config.source_ami_filter as AmiFilter | undefined;
      ctx.ui.say("Inspecting the source AMI...");
      const out = await ec2.send(
        new DescribeImagesCommand(
          sourceAmi ? { ImageIds: [sourceAmi] } : {
            Owners: filter?.owners?.length ? filter.owners : undefined,
            Filters: Object.entries(filter?.filters ?? {}).map(([Name, value]) => ({
              Name,
              Values: [value],
            })),
          },
        ),
        { abortSignal: ctx.signal },
      );
      let images = out.Images ?? [];
      if (images.length === 0) {
        throw new Error(
          sourceAmi
            ? `source AMI ${sourceAmi} was not found`
            : "no AMI was found matching source_ami_filter",
        );
      }
      if (images.length > 1) {
        if (!filter?.most_recent) {
          throw new Error(
            "your query returned more than one result; please try a more specific search, or set most_recent to true",
          );
        }
        images = [...images].sort((a, b) =>
          (b.CreationDate ?? "").localeCompare(a.CreationDate ?? "")
        );
      }
      const image = images[0];
      if (image.RootDeviceType !== "instance-store") {
        throw new Error(
          `the root device of the source AMI (${image.ImageId}) must be "instance-store", not "${image.RootDeviceType}"`,
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
