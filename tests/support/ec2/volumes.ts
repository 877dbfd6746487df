/**
 * EBS volumes and snapshots: a launch makes one volume per EBS mapping (the
 * AMI's, overridden or extended by the request's), termination deletes those
 * marked DeleteOnTermination and detaches the rest, and CreateImage /
 * CopyImage make snapshots that stay pending for `imagePendingMs`.
 */
import type { Ec2Emulator, RequestContext } from "./emulator.ts";
import type { BlockDeviceMapping, Image, Instance, Snapshot, Volume } from "./model.ts";
import type { Tag } from "./query.ts";

/** The AMI's mappings with the request's laid over them by device name (EC2's merge). */
export function mergeMappings(
  base: BlockDeviceMapping[],
  requested: BlockDeviceMapping[],
): BlockDeviceMapping[] {
  const merged = new Map(base.map((b) => [b.deviceName, structuredClone(b)]));
  for (const r of requested) {
    const old = merged.get(r.deviceName);
    if (r.noDevice) {
      merged.delete(r.deviceName);
      continue;
    }
    merged.set(r.deviceName, {
      ...old,
      ...r,
      ebs: r.ebs || old?.ebs ? { ...old?.ebs, ...stripUndefined(r.ebs ?? {}) } : undefined,
    });
  }
  return [...merged.values()];
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Creates and attaches the launch's volumes (EBS mappings only), tagged with the volume tags. */
export function attachLaunchVolumes(
  emu: Ec2Emulator,
  instance: Instance,
  image: Image,
  requested: BlockDeviceMapping[],
  tags: Tag[],
): void {
  const base = image.rootDeviceType === "ebs" ? image.blockDeviceMappings : [];
  for (const mapping of mergeMappings(base, requested)) {
    if (!mapping.ebs) continue;
    const volume: Volume = {
      volumeId: emu.newId("vol"),
      region: instance.region,
      size: mapping.ebs.volumeSize ?? 8,
      snapshotId: mapping.ebs.snapshotId,
      availabilityZone: instance.availabilityZone,
      state: "in-use",
      volumeType: mapping.ebs.volumeType ?? "gp2",
      encrypted: mapping.ebs.encrypted ?? false,
      kmsKeyId: mapping.ebs.kmsKeyId,
      iops: mapping.ebs.iops,
      createTime: new Date(),
      attachment: {
        instanceId: instance.instanceId,
        device: mapping.deviceName,
        // EC2's default for a launch mapping: the volume goes with the instance.
        deleteOnTermination: mapping.ebs.deleteOnTermination ?? true,
      },
    };
    emu.volumes.set(volume.volumeId, volume);
    emu.applyTags(volume.volumeId, tags);
    instance.volumes.push({
      deviceName: mapping.deviceName,
      volumeId: volume.volumeId,
      deleteOnTermination: volume.attachment!.deleteOnTermination,
    });
  }
}

/** At termination: DeleteOnTermination volumes go, the others become `available`. */
export function releaseVolumes(emu: Ec2Emulator, instance: Instance): void {
  for (const { volumeId, deleteOnTermination } of instance.volumes) {
    const volume = emu.volumes.get(volumeId);
    if (!volume) continue;
    if (deleteOnTermination) {
      emu.volumes.delete(volumeId);
      emu.tags.delete(volumeId);
    } else {
      volume.state = "available";
      volume.attachment = undefined;
    }
  }
}

/** A new pending snapshot, completed after `imagePendingMs`. */
export function newSnapshot(
  emu: Ec2Emulator,
  fields: Pick<Snapshot, "region" | "volumeId" | "volumeSize" | "description" | "encrypted"> & {
    kmsKeyId?: string;
  },
  tags: Tag[],
): Snapshot {
  const snapshot: Snapshot = {
    snapshotId: emu.newId("snap"),
    state: "pending",
    startTime: new Date(),
    ownerId: emu.accountId,
    createVolumePermissions: [],
    seeded: false,
    ...fields,
  };
  emu.snapshots.set(snapshot.snapshotId, snapshot);
  emu.applyTags(snapshot.snapshotId, tags);
  emu.created(snapshot.snapshotId);
  emu.after(emu.timing.imagePendingMs, () => {
    if (snapshot.state === "pending") snapshot.state = "completed";
  });
  return snapshot;
}

/**
 * CopyImage's snapshots: one new snapshot per EBS mapping of the copy,
 * encrypted when asked (with `KmsKeyId`, else the account's default EBS key).
 */
export function copySnapshots(
  emu: Ec2Emulator,
  ctx: RequestContext,
  source: Image,
  copy: Image,
  encryption: { encrypted?: boolean; kmsKeyId?: string },
): void {
  for (const m of copy.blockDeviceMappings) {
    if (!m.ebs?.snapshotId) continue;
    const from = emu.snapshots.get(m.ebs.snapshotId);
    const encrypted = Boolean(encryption.encrypted || from?.encrypted || m.ebs.encrypted);
    const kmsKeyId = encryption.kmsKeyId ??
      (encryption.encrypted
        ? `arn:aws:kms:${ctx.region}:${emu.accountId}:alias/aws/ebs`
        : undefined) ??
      from?.kmsKeyId;
    const snapshot = newSnapshot(emu, {
      region: ctx.region,
      volumeId: "vol-ffffffff",
      volumeSize: m.ebs.volumeSize ?? from?.volumeSize ?? 8,
      description: `Copied for DestinationAmi ${copy.imageId} from SourceAmi ${source.imageId} ` +
        `for SourceSnapshot ${m.ebs.snapshotId}. Task created on ${new Date().toISOString()}.`,
      encrypted,
      kmsKeyId,
    }, []);
    m.ebs = { ...m.ebs, snapshotId: snapshot.snapshotId, encrypted, kmsKeyId };
  }
}
