/**
 * One AMI out of a DescribeImages query, as Packer's AMI filter options pick
 * it: no image is an error, several are an error unless `most_recent`, which
 * takes the newest CreationDate. Shared by the source-AMI step and the
 * amazon-ami data source, so both say the same thing in Packer's words.
 */
import type { EC2Client, Image } from "@aws-sdk/client-ec2";
import { loadEc2Sdk } from "./client.ts";

/** An EC2 filter: the image matches when the named field matches any value. */
export interface Ec2Filter {
  Name: string;
  Values: string[];
}

/** What to ask DescribeImages for. */
export interface ImageQuery {
  filters: Ec2Filter[];
  /** Account ids, "self" or aliases ("amazon"); empty: any owner. */
  owners?: string[];
  mostRecent?: boolean;
  /** Sent only when defined: Packer 1.6.6's source-AMI lookup never sent it. */
  includeDeprecated?: boolean;
}

/** No image, or several without most_recent: the query, not the call, is what failed. */
export class AmiSelectionError extends Error {
}

/** The query in words, for the "nothing found" error. */
export function describeQuery(query: ImageQuery): string {
  const filters = query.filters.map((f) =>
    `${f.Name} = ${f.Values.map((v) => JSON.stringify(v)).join(" or ")}`
  );
  const parts = [filters.length ? filters.join(", ") : "(no filters)"];
  if (query.owners?.length) parts.push(`owners: ${query.owners.join(", ")}`);
  if (query.includeDeprecated) parts.push("deprecated images included");
  return parts.join("; ");
}

/** The newest image by CreationDate (ISO 8601, so text order is time order). */
export function mostRecentImage(images: readonly Image[]): Image {
  return images.reduce((newest, image) =>
    (image.CreationDate ?? "") > (newest.CreationDate ?? "") ? image : newest
  );
}

/**
 * Runs the query and picks the image. SDK errors are thrown as they are
 * (callers decide how to word them); the selection errors carry Packer's text.
 */
export async function findImage(
  ec2: EC2Client,
  query: ImageQuery,
  signal?: AbortSignal,
): Promise<Image> {
  const { DescribeImagesCommand } = await loadEc2Sdk();
  const out = await ec2.send(
    new DescribeImagesCommand({
      Owners: query.owners?.length ? query.owners : undefined,
      Filters: query.filters.length ? query.filters : undefined,
      IncludeDeprecated: query.includeDeprecated,
    }),
    { abortSignal: signal },
  );
  const images = out.Images ?? [];
  if (images.length === 0) {
    throw new AmiSelectionError(`No AMI was found matching filters: ${describeQuery(query)}`);
  }
  if (images.length > 1 && !query.mostRecent) {
    throw new AmiSelectionError(
      "Your query returned more than one result. Please try a more specific search, or set " +
        "most_recent to true.",
    );
  }
  return query.mostRecent ? mostRecentImage(images) : images[0];
}
