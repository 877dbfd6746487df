/**
 * What `kiln sweep` finds in one region: every EC2 resource kind kiln
 * creates that carries a `kiln:run-id` tag, plus which snapshots back which
 * of the account's AMIs (tagged or not), so a sweep never deletes a snapshot
 * an AMI still needs.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import { BUILD_TAG, RUN_TAG } from "./identity.ts";
import { loadEc2Sdk } from "./client.ts";

/** The kinds of resources a sweep looks at, in the order they are deleted. */
export const SWEPT_KINDS = [
  "spot-request",
  "instance",
  "launch-template",
  "volume",
  "security-group",
  "key-pair",
  "image",
  "snapshot",
] as const;

/** One kind of swept resource. */
export type SweptKind = typeof SWEPT_KINDS[number];

/** A resource carrying `kiln:run-id`, as the cloud describes it. */
export interface SweptResource {
  kind: SweptKind;
  /** What the delete call takes: the key pair's name, every other kind's id. */
  id: string;
  region: string;
  /** The raw `kiln:run-id` value: cloud data, not yet known to be a run id. */
  runTag: string;
  /** The raw `kiln:build` value, if any. */
  build?: string;
  /** A volume's instance while it is attached. */
  attachedTo?: string;
}

/** A region's tagged resources and the snapshots its AMIs are made of. */
export interface RegionInventory {
  region: string;
  resources: SweptResource[];
  /** Snapshot id → the ids of the account's AMIs that use it. */
  snapshotImages: Map<string, string[]>;
}

type Tags = { Key?: string; Value?: string }[] | undefined;

function tagValue(tags: Tags, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

const TAGGED = [{ Name: "tag-key", Values: [RUN_TAG] }];

/** Follows NextToken until the last page. */
async function allPages<T>(page: (token?: string) => Promise<{ items: T[]; next?: string }>) {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const got = await page(token);
    out.push(...got.items);
    token = got.next;
  } while (token);
  return out;
}

/** Lists every kiln-tagged resource in `region` (the client must be for that region). */
export async function inventoryRegion(ec2: EC2Client, region: string): Promise<RegionInventory> {
  const sdk = await loadEc2Sdk();
  const resources: SweptResource[] = [];
  const add = (kind: SweptKind, id: string | undefined, tags: Tags, extra = {}) => {
    const runTag = tagValue(tags, RUN_TAG);
    if (!id || runTag === undefined) return;
    resources.push({ kind, id, region, runTag, build: tagValue(tags, BUILD_TAG), ...extra });
  };

  const reservations = await allPages(async (NextToken) => {
    const out = await ec2.send(new sdk.DescribeInstancesCommand({ Filters: TAGGED, NextToken }));
    return { items: out.Reservations ?? [], next: out.NextToken };
  });
  for (const i of reservations.flatMap((r) => r.Instances ?? [])) {
    // A terminated instance costs nothing and cannot be deleted further.
    if (i.State?.Name !== "terminated") add("instance", i.InstanceId, i.Tags);
  }

  const spot = await allPages(async (NextToken) => {
    const out = await ec2.send(
      new sdk.DescribeSpotInstanceRequestsCommand({ Filters: TAGGED, NextToken }),
    );
    return { items: out.SpotInstanceRequests ?? [], next: out.NextToken };
  });
  for (const r of spot) {
    if (r.State === "open" || r.State === "active") {
      add("spot-request", r.SpotInstanceRequestId, r.Tags);
    }
  }

  const templates = await allPages(async (NextToken) => {
    const out = await ec2.send(
      new sdk.DescribeLaunchTemplatesCommand({ Filters: TAGGED, NextToken }),
    );
    return { items: out.LaunchTemplates ?? [], next: out.NextToken };
  });
  for (const t of templates) add("launch-template", t.LaunchTemplateId, t.Tags);

  const volumes = await allPages(async (NextToken) => {
    const out = await ec2.send(new sdk.DescribeVolumesCommand({ Filters: TAGGED, NextToken }));
    return { items: out.Volumes ?? [], next: out.NextToken };
  });
  for (const v of volumes) {
    const attached = v.Attachments?.find((a) => a.State !== "detached")?.InstanceId;
    add("volume", v.VolumeId, v.Tags, attached ? { attachedTo: attached } : {});
  }

  const groups = await allPages(async (NextToken) => {
    const out = await ec2.send(
      new sdk.DescribeSecurityGroupsCommand({ Filters: TAGGED, NextToken }),
    );
    return { items: out.SecurityGroups ?? [], next: out.NextToken };
  });
  for (const g of groups) add("security-group", g.GroupId, g.Tags);

  // DescribeKeyPairs has no pages.
  const keys = await ec2.send(new sdk.DescribeKeyPairsCommand({ Filters: TAGGED }));
  for (const k of keys.KeyPairs ?? []) add("key-pair", k.KeyName, k.Tags);

  // Every AMI of ours, tagged or not: any of them may use a tagged snapshot.
  const images = await allPages(async (NextToken) => {
    const out = await ec2.send(new sdk.DescribeImagesCommand({ Owners: ["self"], NextToken }));
    return { items: out.Images ?? [], next: out.NextToken };
  });
  const snapshotImages = new Map<string, string[]>();
  const imageIds = new Set(images.map((i) => i.ImageId ?? ""));
  for (const image of images) {
    add("image", image.ImageId, image.Tags);
    for (const b of image.BlockDeviceMappings ?? []) {
      const snapshot = b.Ebs?.SnapshotId;
      if (snapshot && image.ImageId) useSnapshot(snapshotImages, snapshot, image.ImageId);
    }
  }

  const snapshots = await allPages(async (NextToken) => {
    const out = await ec2.send(
      new sdk.DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: TAGGED, NextToken }),
    );
    return { items: out.Snapshots ?? [], next: out.NextToken };
  });
  for (const s of snapshots) {
    add("snapshot", s.SnapshotId, s.Tags);
    // EC2 names the AMI in the description of the snapshots CreateImage/CopyImage made:
    // a pending AMI may not list its mappings yet.
    for (const named of (s.Description ?? "").match(/\bami-[0-9a-f]+\b/g) ?? []) {
      if (s.SnapshotId && imageIds.has(named)) useSnapshot(snapshotImages, s.SnapshotId, named);
    }
  }
  return { region, resources, snapshotImages };
}

function useSnapshot(map: Map<string, string[]>, snapshot: string, image: string): void {
  const users = map.get(snapshot) ?? [];
  if (!users.includes(image)) users.push(image);
  map.set(snapshot, users);
}
