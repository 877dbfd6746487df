/**
 * What an EBS-backed build needs beyond launching: StopInstances,
 * ModifyInstanceAttribute (ENA / SR-IOV), CreateImage (a snapshot per EBS
 * volume), EnableImageDeprecation, DescribeSnapshots, DeleteSnapshot,
 * Describe/ModifySnapshotAttribute, DescribeVolumes, DeleteVolume — with
 * EC2's rules (only an EBS root stops, and no one-time spot instance; ENA
 * changes need a stopped instance;
 * a snapshot behind a registered AMI cannot be deleted).
 */
import type { Ec2Emulator, RequestContext } from "../emulator.ts";
import { Ec2Error, invalidParameter } from "../errors.ts";
import { applyFilters } from "../filters.ts";
import { stopInstance } from "../lifecycle.ts";
import type { BlockDeviceMapping, Image, Snapshot, Volume } from "../model.ts";
import { instanceState } from "../render.ts";
import { mergeMappings, newSnapshot } from "../volumes.ts";
import { blockDevicesFrom, checkName, newImage } from "./images.ts";
import { KINDS, one, select } from "./lookup.ts";
import type { ActionHandler, Members } from "./types.ts";

/** StopInstances: running → stopping → stopped; an instance-store root cannot stop. */
export const stopInstances: ActionHandler = (emu, p, ctx) => {
  const ids = p.list("InstanceId");
  if (ids.length === 0) {
    throw new Ec2Error("MissingParameter", "The request must contain the parameter InstanceId");
  }
  const instances = select(emu, KINDS.instance, emu.instances, ids, ctx.region);
  for (const i of instances) {
    if (i.rootDeviceType !== "ebs") {
      throw new Ec2Error(
        "UnsupportedOperation",
        `The instance '${i.instanceId}' does not have an 'ebs' root device type and cannot be stopped.`,
      );
    }
    if (i.instanceLifecycle === "spot") {
      throw new Ec2Error(
        "UnsupportedOperation",
        `You can't stop the Spot Instance '${i.instanceId}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.`,
      );
    }
    if (i.state === "terminated" || i.state === "shutting-down") {
      throw new Ec2Error(
        "IncorrectInstanceState",
        `This instance '${i.instanceId}' is not in a state from which it can be stopped.`,
      );
    }
  }
  return {
    instancesSet: instances.map((i) => {
      const previous = i.state;
      stopInstance(emu, i);
      return {
        instanceId: i.instanceId,
        currentState: instanceState(i.state),
        previousState: instanceState(previous),
      };
    }),
  };
};

/** ModifyInstanceAttribute: EnaSupport / SriovNetSupport (stopped instances only), and the rest accepted. */
export const modifyInstanceAttribute: ActionHandler = (emu, p, ctx) => {
  const instance = one(emu, KINDS.instance, emu.instances, p.required("InstanceId"), ctx.region);
  const attribute = p.get("Attribute");
  const ena = p.bool("EnaSupport.Value") ??
    (attribute === "enaSupport" ? p.get("Value") === "true" : undefined);
  const sriov = p.get("SriovNetSupport.Value") ??
    (attribute === "sriovNetSupport" ? p.get("Value") : undefined);
  if ((ena !== undefined || sriov !== undefined) && instance.state !== "stopped") {
    throw new Ec2Error(
      "IncorrectInstanceState",
      `The instance '${instance.instanceId}' is not in the 'stopped' state.`,
    );
  }
  if (sriov !== undefined && sriov !== "simple") {
    throw invalidParameter("SriovNetSupport", sriov, "Valid value: simple");
  }
  if (ena !== undefined) instance.enaSupport = ena;
  if (sriov !== undefined) instance.sriovNetSupport = sriov;
  return { return: true };
};

/**
 * CreateImage: a pending EBS AMI whose mappings are the instance's volumes
 * (one new snapshot each) with the request's mappings laid over them.
 */
export const createImage: ActionHandler = (emu, p, ctx) => {
  const instance = one(emu, KINDS.instance, emu.instances, p.required("InstanceId"), ctx.region);
  if (instance.state !== "running" && instance.state !== "stopped") {
    throw new Ec2Error(
      "IncorrectInstanceState",
      `Instance '${instance.instanceId}' is not in a valid state for creating an image (${instance.state}).`,
    );
  }
  if (instance.rootDeviceType !== "ebs") {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Instance '${instance.instanceId}' has no EBS root device; CreateImage needs one.`,
    );
  }
  const name = p.required("Name");
  checkName(emu, ctx.region, name);
  const requested = blockDevicesFrom(p);
  const tagSpecs = p.tagSpecifications();
  const tagsFor = (type: string) =>
    tagSpecs.filter((s) => s.resourceType === type).flatMap((s) => s.tags);
  const source = emu.images.get(instance.imageId);
  const image = newImage(emu, ctx, {
    name,
    description: p.get("Description"),
    imageLocation: `${emu.accountId}/${name}`,
    architecture: instance.architecture,
    rootDeviceType: "ebs",
    rootDeviceName: instance.rootDeviceName,
    virtualizationType: instance.virtualizationType as Image["virtualizationType"],
    enaSupport: instance.enaSupport ?? source?.enaSupport,
    sriovNetSupport: instance.sriovNetSupport ?? source?.sriovNetSupport,
  });
  const fromVolumes: BlockDeviceMapping[] = instance.volumes.map((v) => {
    const volume = emu.volumes.get(v.volumeId)!;
    return {
      deviceName: v.deviceName,
      ebs: {
        volumeSize: volume.size,
        volumeType: volume.volumeType,
        deleteOnTermination: v.deleteOnTermination,
        encrypted: volume.encrypted,
        kmsKeyId: volume.kmsKeyId,
        iops: volume.iops,
        // Marks the mapping as the volume's until its snapshot exists.
        snapshotId: v.volumeId,
      },
    };
  });
  const mappings = mergeMappings(fromVolumes, requested);
  for (const m of mappings) {
    const volumeId = m.ebs?.snapshotId;
    if (!volumeId?.startsWith("vol-")) continue;
    const volume = emu.volumes.get(volumeId)!;
    const snapshot = newSnapshot(emu, {
      region: ctx.region,
      volumeId,
      volumeSize: volume.size,
      description:
        `Created by CreateImage(${instance.instanceId}) for ${image.imageId} from ${volumeId}`,
      encrypted: volume.encrypted,
      kmsKeyId: volume.kmsKeyId,
    }, tagsFor("snapshot"));
    m.ebs!.snapshotId = snapshot.snapshotId;
  }
  image.blockDeviceMappings = mappings;
  emu.applyTags(image.imageId, tagsFor("image"));
  return { imageId: image.imageId };
};

/** EnableImageDeprecation: sets when the owner's AMI becomes deprecated. */
export const enableImageDeprecation: ActionHandler = (emu, p, ctx) => {
  const image = one(emu, KINDS.image, emu.images, p.required("ImageId"), ctx.region);
  if (image.ownerId !== emu.accountId) {
    throw new Ec2Error("AuthFailure", `Not authorized for image:${image.imageId}`);
  }
  const at = p.required("DeprecateAt");
  if (Number.isNaN(Date.parse(at))) {
    throw invalidParameter("DeprecateAt", at, "Expected an ISO 8601 timestamp");
  }
  image.deprecationTime = new Date(Date.parse(at)).toISOString().replace(/\.\d{3}Z$/, ".000Z");
  return { return: true };
};

function visibleSnapshot(emu: Ec2Emulator, s: Snapshot): boolean {
  return s.ownerId === emu.accountId ||
    s.createVolumePermissions.some((c) => c.group === "all" || c.userId === emu.accountId);
}

function renderSnapshot(emu: Ec2Emulator, s: Snapshot): Members {
  return {
    snapshotId: s.snapshotId,
    volumeId: s.volumeId,
    status: s.state,
    startTime: s.startTime,
    progress: s.state === "completed" ? "100%" : "0%",
    ownerId: s.ownerId,
    volumeSize: s.volumeSize,
    description: s.description,
    encrypted: s.encrypted,
    kmsKeyId: s.kmsKeyId,
    storageTier: "standard",
    tagSet: emu.tagSet(s.snapshotId),
  };
}

/** DescribeSnapshots: SnapshotId.N, Owner.N, RestorableBy.N and filters. */
export const describeSnapshots: ActionHandler = (emu, p, ctx) => {
  const ids = p.list("SnapshotId");
  let snapshots = select(emu, KINDS.snapshot, emu.snapshots, ids, ctx.region);
  if (ids.length === 0) snapshots = snapshots.filter((s) => visibleSnapshot(emu, s));
  const owners = p.list("Owner");
  if (owners.length > 0) {
    snapshots = snapshots.filter((s) =>
      owners.some((o) => (o === "self" ? s.ownerId === emu.accountId : s.ownerId === o))
    );
  }
  snapshots = applyFilters(snapshots, p.filters(), (s, name) => {
    switch (name) {
      case "snapshot-id":
        return [s.snapshotId];
      case "description":
        return [s.description];
      case "status":
        return [s.state];
      case "volume-id":
        return [s.volumeId];
      case "owner-id":
        return [s.ownerId];
      case "encrypted":
        return [String(s.encrypted)];
      case "volume-size":
        return [String(s.volumeSize)];
    }
  }, (s) => emu.tagsOf(s.snapshotId));
  return { snapshotSet: snapshots.map((s) => renderSnapshot(emu, s)) };
};

function ownSnapshot(emu: Ec2Emulator, id: string, ctx: RequestContext): Snapshot {
  const snapshot = one(emu, KINDS.snapshot, emu.snapshots, id, ctx.region);
  if (snapshot.ownerId !== emu.accountId) {
    throw new Ec2Error("AuthFailure", `Not authorized for snapshot:${snapshot.snapshotId}`);
  }
  return snapshot;
}

/** DeleteSnapshot: refused while a registered AMI uses the snapshot (`InvalidSnapshot.InUse`). */
export const deleteSnapshot: ActionHandler = (emu, p, ctx) => {
  const snapshot = ownSnapshot(emu, p.required("SnapshotId"), ctx);
  const user = [...emu.images.values()].find((i) =>
    i.blockDeviceMappings.some((b) => b.ebs?.snapshotId === snapshot.snapshotId)
  );
  if (user) {
    throw new Ec2Error(
      "InvalidSnapshot.InUse",
      `The snapshot ${snapshot.snapshotId} is currently in use by ${user.imageId}`,
    );
  }
  emu.snapshots.delete(snapshot.snapshotId);
  emu.tags.delete(snapshot.snapshotId);
  return { return: true };
};

/** ModifySnapshotAttribute: createVolumePermission, both request forms. */
export const modifySnapshotAttribute: ActionHandler = (emu, p, ctx) => {
  const snapshot = ownSnapshot(emu, p.required("SnapshotId"), ctx);
  type Perm = { userId?: string; group?: string };
  const read = (prefix: string): Perm[] =>
    p.structs(prefix).map((c) => ({ userId: c.get("UserId"), group: c.get("Group") }));
  let add = read("CreateVolumePermission.Add");
  let remove = read("CreateVolumePermission.Remove");
  const legacy: Perm[] = [
    ...p.list("UserId").map((userId) => ({ userId })),
    ...p.list("UserGroup").map((group) => ({ group })),
  ];
  if (legacy.length > 0) {
    const op = p.get("OperationType");
    if (op !== "add" && op !== "remove") {
      throw invalidParameter("OperationType", String(op), "Valid values: add, remove");
    }
    if (op === "add") add = [...add, ...legacy];
    else remove = [...remove, ...legacy];
  }
  for (const perm of add) {
    if (perm.group !== undefined && perm.group !== "all") {
      throw invalidParameter("Group", perm.group, "The only valid group is 'all'");
    }
    if (perm.userId !== undefined && !/^\d{12}$/.test(perm.userId)) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `Value (${perm.userId}) for parameter userId is invalid.`,
      );
    }
    const same = (c: Perm) => c.userId === perm.userId && c.group === perm.group;
    if (!snapshot.createVolumePermissions.some(same)) snapshot.createVolumePermissions.push(perm);
  }
  snapshot.createVolumePermissions = snapshot.createVolumePermissions.filter((c) =>
    !remove.some((r) => r.userId === c.userId && r.group === c.group)
  );
  return { return: true };
};

/** DescribeSnapshotAttribute: createVolumePermission. */
export const describeSnapshotAttribute: ActionHandler = (emu, p, ctx) => {
  const snapshot = ownSnapshot(emu, p.required("SnapshotId"), ctx);
  const attribute = p.required("Attribute");
  if (attribute !== "createVolumePermission") {
    throw invalidParameter("Attribute", attribute, "Valid values: createVolumePermission");
  }
  return {
    snapshotId: snapshot.snapshotId,
    createVolumePermission: snapshot.createVolumePermissions as Members[],
  };
};

function renderVolume(emu: Ec2Emulator, v: Volume): Members {
  return {
    volumeId: v.volumeId,
    size: v.size,
    snapshotId: v.snapshotId ?? "",
    availabilityZone: v.availabilityZone,
    status: v.state,
    createTime: v.createTime,
    attachmentSet: v.attachment
      ? [{
        volumeId: v.volumeId,
        instanceId: v.attachment.instanceId,
        device: v.attachment.device,
        status: "attached",
        attachTime: v.createTime,
        deleteOnTermination: v.attachment.deleteOnTermination,
      }]
      : [],
    volumeType: v.volumeType,
    iops: v.iops,
    encrypted: v.encrypted,
    kmsKeyId: v.kmsKeyId,
    tagSet: emu.tagSet(v.volumeId),
    multiAttachEnabled: false,
  };
}

/** DescribeVolumes: VolumeId.N and filters. */
export const describeVolumes: ActionHandler = (emu, p, ctx) => {
  const volumes = applyFilters(
    select(emu, KINDS.volume, emu.volumes, p.list("VolumeId"), ctx.region),
    p.filters(),
    (v, name) => {
      switch (name) {
        case "volume-id":
          return [v.volumeId];
        case "status":
          return [v.state];
        case "snapshot-id":
          return [v.snapshotId];
        case "attachment.instance-id":
          return [v.attachment?.instanceId];
        case "attachment.device":
          return [v.attachment?.device];
        case "availability-zone":
          return [v.availabilityZone];
        case "volume-type":
          return [v.volumeType];
      }
    },
    (v) => emu.tagsOf(v.volumeId),
  );
  return { volumeSet: volumes.map((v) => renderVolume(emu, v)) };
};

/** DeleteVolume: refused while attached (`VolumeInUse`). */
export const deleteVolume: ActionHandler = (emu, p, ctx) => {
  const volume = one(emu, KINDS.volume, emu.volumes, p.required("VolumeId"), ctx.region);
  if (volume.attachment) {
    throw new Ec2Error(
      "VolumeInUse",
      `Volume ${volume.volumeId} is currently attached to ${volume.attachment.instanceId}`,
    );
  }
  emu.volumes.delete(volume.volumeId);
  emu.tags.delete(volume.volumeId);
  return { return: true };
};
