/**
 * RunInstances (ClientToken idempotency, TagSpecifications, UserData, network
 * placement), DescribeInstances, TerminateInstances, DescribeInstanceStatus,
 * DescribeInstanceAttribute, GetPasswordData.
 */
import type { Ec2Emulator, RequestContext } from "../emulator.ts";
import { Ec2Error, invalidParameter } from "../errors.ts";
import { applyFilters } from "../filters.ts";
import { dnsNamesFor, startInstance, terminateInstance } from "../lifecycle.ts";
import type { BlockDeviceMapping, Image, Instance, Reservation, Subnet } from "../model.ts";
import type { Tag } from "../query.ts";
import { attachLaunchVolumes } from "../volumes.ts";
import { blockDevicesFrom } from "./images.ts";
import type { QueryParams } from "../query.ts";
import { instanceState, renderInstance } from "../render.ts";
import { KINDS, one, select } from "./lookup.ts";
import type { ActionHandler, Members } from "./types.ts";

/** Whether the account may launch an image: public, owned, or shared with it. */
export function launchable(emu: Ec2Emulator, image: Image): boolean {
  return image.ownerId === emu.accountId ||
    image.launchPermissions.some((l) => l.group === "all" || l.userId === emu.accountId);
}

/** A digest of the request without ClientToken: a retry must repeat it exactly. */
export function requestDigest(p: QueryParams): string {
  return p.entries().filter(([k]) => k !== "ClientToken").sort(([a], [b]) => a < b ? -1 : 1)
    .map(([k, v]) => `${k}=${v}`).join("&");
}

/** The launch parameters RunInstances and RequestSpotInstances share. */
export interface LaunchSpec {
  imageId: string;
  instanceType: string;
  keyName?: string;
  subnetId?: string;
  groupIds: string[];
  groupNames: string[];
  availabilityZone?: string;
  associatePublicIp?: boolean;
  userData?: string;
  iamInstanceProfile?: string;
  tenancy?: string;
  shutdownBehavior?: string;
  ebsOptimized?: boolean;
  metadata?: { httpTokens?: string; httpEndpoint?: string; hopLimit?: number };
  /** `BlockDeviceMapping.N`: laid over the AMI's mappings. */
  blockDevices: BlockDeviceMapping[];
  /** Tags of `TagSpecification` with ResourceType `volume`. */
  volumeTags: Tag[];
}

/** Reads the launch parameters from RunInstances' top level or a `LaunchSpecification.` view. */
export function launchSpecFrom(p: QueryParams): LaunchSpec {
  const nic = p.structs("NetworkInterface")[0];
  return {
    imageId: p.required("ImageId"),
    instanceType: p.optional("InstanceType") ?? "m1.small",
    keyName: p.optional("KeyName"),
    subnetId: p.optional("SubnetId") ?? nic?.optional("SubnetId"),
    groupIds: [...p.list("SecurityGroupId"), ...(nic?.list("SecurityGroupId") ?? [])],
    groupNames: p.list("SecurityGroup"),
    availabilityZone: p.optional("Placement.AvailabilityZone"),
    associatePublicIp: nic?.bool("AssociatePublicIpAddress"),
    userData: p.get("UserData"),
    iamInstanceProfile: p.optional("IamInstanceProfile.Arn") ??
      p.optional("IamInstanceProfile.Name"),
    tenancy: p.optional("Placement.Tenancy"),
    shutdownBehavior: p.optional("InstanceInitiatedShutdownBehavior"),
    ebsOptimized: p.bool("EbsOptimized"),
    metadata: {
      httpTokens: p.optional("MetadataOptions.HttpTokens"),
      httpEndpoint: p.optional("MetadataOptions.HttpEndpoint"),
      hopLimit: p.int("MetadataOptions.HttpPutResponseHopLimit"),
    },
    blockDevices: blockDevicesFrom(p),
    volumeTags: p.tagSpecifications().filter((s) => s.resourceType === "volume")
      .flatMap((s) => s.tags),
  };
}

function pickSubnet(emu: Ec2Emulator, spec: LaunchSpec, region: string): Subnet {
  if (spec.subnetId) return one(emu, KINDS.subnet, emu.subnets, spec.subnetId, region);
  const defaults = [...emu.subnets.values()].filter((s) => s.region === region && s.defaultForAz);
  const subnet = spec.availabilityZone
    ? defaults.find((s) => s.availabilityZone === spec.availabilityZone)
    : defaults[0];
  if (!subnet) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Invalid availability zone: [${spec.availabilityZone}]`,
    );
  }
  return subnet;
}

/** Validates a launch and creates `count` pending instances in one reservation. */
export function launch(
  emu: Ec2Emulator,
  ctx: RequestContext,
  spec: LaunchSpec,
  count: number,
  extra: {
    clientToken?: string;
    requestDigest?: string;
    spotRequestId?: string;
    tags?: [string, string][];
  },
): Reservation {
  const image = one(emu, KINDS.image, emu.images, spec.imageId, ctx.region);
  if (!launchable(emu, image)) {
    throw new Ec2Error("InvalidAMIID.NotFound", KINDS.image.notFound([image.imageId]));
  }
  if (image.state !== "available") {
    throw new Ec2Error(
      "InvalidAMIID.Unavailable",
      `The image id '[${image.imageId}]' is not available`,
    );
  }
  const keyPair = spec.keyName
    ? [...emu.keyPairs.values()].find((k) => k.region === ctx.region && k.keyName === spec.keyName)
    : undefined;
  if (spec.keyName) {
    if (!keyPair) {
      throw new Ec2Error(
        "InvalidKeyPair.NotFound",
        `The key pair '${spec.keyName}' does not exist`,
      );
    }
  }
  // IAM changes reach EC2 late: a profile created moments ago is still "invalid" here.
  const profile = spec.iamInstanceProfile
    ? emu.iam.profileForLaunch(spec.iamInstanceProfile)
    : undefined;
  if (spec.iamInstanceProfile && !profile) {
    throw invalidParameter(
      spec.iamInstanceProfile.startsWith("arn:")
        ? "iamInstanceProfile.arn"
        : "iamInstanceProfile.name",
      spec.iamInstanceProfile,
      "Invalid IAM Instance Profile name",
    );
  }
  const subnet = pickSubnet(emu, spec, ctx.region);
  const groups = spec.groupIds.map((id) =>
    one(emu, KINDS.securityGroup, emu.securityGroups, id, ctx.region)
  );
  for (const name of spec.groupNames) {
    const g = [...emu.securityGroups.values()].find((g) =>
      g.region === ctx.region && g.vpcId === subnet.vpcId && g.groupName === name
    );
    if (!g) {
      throw new Ec2Error(
        "InvalidGroup.NotFound",
        `The security group '${name}' does not exist in VPC '${subnet.vpcId}'`,
      );
    }
    groups.push(g);
  }
  if (groups.length === 0) {
    groups.push(
      [...emu.securityGroups.values()].find((g) => g.vpcId === subnet.vpcId && g.isDefault)!,
    );
  }
  for (const g of groups) {
    if (g.vpcId !== subnet.vpcId) {
      throw new Ec2Error(
        "InvalidParameter",
        `Security group ${g.groupId} and subnet ${subnet.subnetId} belong to different networks.`,
      );
    }
  }
  if (spec.userData !== undefined) {
    let decoded: string;
    try {
      decoded = atob(spec.userData);
    } catch {
      throw invalidParameter("UserData", "(base64)", "Invalid BASE64 encoding of user data.");
    }
    if (decoded.length > 16384) {
      throw new Ec2Error("InvalidParameterValue", "User data is limited to 16384 bytes");
    }
  }
  if (spec.shutdownBehavior && !["stop", "terminate"].includes(spec.shutdownBehavior)) {
    throw invalidParameter(
      "InstanceInitiatedShutdownBehavior",
      spec.shutdownBehavior,
      "Valid values: stop, terminate",
    );
  }
  const reservation: Reservation = {
    reservationId: emu.newId("r"),
    region: ctx.region,
    instanceIds: [],
    clientToken: extra.clientToken,
    requestDigest: extra.requestDigest,
  };
  const withPublicIp = spec.associatePublicIp ?? subnet.mapPublicIpOnLaunch;
  for (let index = 0; index < count; index++) {
    const ordinal = ++emu.launches;
    const { privateIp, publicIp } = emu.allocateAddresses();
    const instanceId = emu.newId("i");
    const instance: Instance = {
      instanceId,
      reservationId: reservation.reservationId,
      region: ctx.region,
      imageId: image.imageId,
      instanceType: spec.instanceType,
      keyName: spec.keyName,
      authorizedKey: keyPair?.publicKey,
      state: "pending",
      stateTransitionReason: "",
      launchTime: new Date(),
      amiLaunchIndex: index,
      privateIpAddress: privateIp,
      publicIpAddress: withPublicIp ? publicIp : undefined,
      ...dnsNamesFor(ctx.region, privateIp, publicIp),
      subnetId: subnet.subnetId,
      vpcId: subnet.vpcId,
      availabilityZone: subnet.availabilityZone,
      tenancy: spec.tenancy ?? "default",
      groups: groups.map((g) => ({ groupId: g.groupId, groupName: g.groupName })),
      clientToken: extra.clientToken,
      userData: spec.userData,
      architecture: image.architecture,
      rootDeviceType: image.rootDeviceType,
      rootDeviceName: image.rootDeviceName,
      virtualizationType: image.virtualizationType,
      shutdownBehavior: spec.shutdownBehavior ?? "stop",
      ebsOptimized: spec.ebsOptimized ?? false,
      iamInstanceProfile: profile ? { arn: profile.arn, id: profile.instanceProfileId } : undefined,
      metadataOptions: {
        httpTokens: spec.metadata?.httpTokens ?? "optional",
        httpEndpoint: spec.metadata?.httpEndpoint ?? "enabled",
        httpPutResponseHopLimit: spec.metadata?.hopLimit ?? 1,
      },
      instanceLifecycle: extra.spotRequestId ? "spot" : undefined,
      spotInstanceRequestId: extra.spotRequestId,
      rootDir: `${emu.dir}/${instanceId}/root`,
      tmpDir: `${emu.dir}/${instanceId}/tmp`,
      ordinal,
      volumes: [],
    };
    emu.instances.set(instanceId, instance);
    attachLaunchVolumes(emu, instance, image, spec.blockDevices, spec.volumeTags);
    reservation.instanceIds.push(instanceId);
    emu.applyTags(instanceId, (extra.tags ?? []).map(([key, value]) => ({ key, value })));
    emu.created(instanceId);
    startInstance(emu, instance);
  }
  emu.reservations.set(reservation.reservationId, reservation);
  return reservation;
}

function renderReservation(emu: Ec2Emulator, r: Reservation, instances?: Instance[]): Members {
  const list = instances ?? r.instanceIds.map((id) => emu.instances.get(id)!);
  return {
    reservationId: r.reservationId,
    ownerId: emu.accountId,
    groupSet: [],
    instancesSet: list.map((i) => renderInstance(emu, i)),
  };
}

/** RunInstances. */
export const runInstances: ActionHandler = (emu, p, ctx) => {
  const min = p.int("MinCount");
  const max = p.int("MaxCount");
  if (min === undefined) {
    throw new Ec2Error("MissingParameter", "The request must contain the parameter MinCount");
  }
  if (max === undefined) {
    throw new Ec2Error("MissingParameter", "The request must contain the parameter MaxCount");
  }
  if (min < 1 || max < min) {
    throw new Ec2Error("InvalidParameterValue", `Invalid MinCount/MaxCount: ${min}/${max}`);
  }
  const clientToken = p.optional("ClientToken");
  if (clientToken && clientToken.length > 64) {
    throw invalidParameter(
      "ClientToken",
      clientToken,
      "Client token must be at most 64 characters",
    );
  }
  const digest = requestDigest(p);
  if (clientToken && !emu.faults.options.ignoreClientToken) {
    const existing = [...emu.reservations.values()].find((r) =>
      r.region === ctx.region && r.clientToken === clientToken
    );
    if (existing) {
      if (existing.requestDigest !== digest) {
        throw new Ec2Error(
          "IdempotentParameterMismatch",
          "The client token you have provided is associated with a resource that is already deleted or a request with different parameters. Please use a different client token.",
        );
      }
      return renderReservation(emu, existing);
    }
  }
  const tags = p.tagSpecifications().filter((s) => s.resourceType === "instance").flatMap((s) =>
    s.tags.map((t) => [t.key, t.value] as [string, string])
  );
  const reservation = launch(emu, ctx, launchSpecFrom(p), max, {
    clientToken,
    requestDigest: digest,
    tags,
  });
  return renderReservation(emu, reservation);
};

function instanceFilter(emu: Ec2Emulator) {
  return (i: Instance, name: string): (string | undefined)[] | undefined => {
    switch (name) {
      case "instance-id":
        return [i.instanceId];
      case "instance-state-name":
        return [i.state];
      case "instance-state-code":
        return [String(instanceState(i.state).code)];
      case "image-id":
        return [i.imageId];
      case "instance-type":
        return [i.instanceType];
      case "key-name":
        return [i.keyName];
      case "vpc-id":
        return [i.vpcId];
      case "subnet-id":
        return [i.subnetId];
      case "availability-zone":
        return [i.availabilityZone];
      case "private-ip-address":
        return [i.privateIpAddress];
      case "ip-address":
        return [i.publicIpAddress];
      case "dns-name":
        return [i.publicDnsName];
      case "private-dns-name":
        return [i.privateDnsName];
      case "client-token":
        return [i.clientToken];
      case "reservation-id":
        return [i.reservationId];
      case "instance.group-id":
      case "group-id":
        return i.groups.map((g) => g.groupId);
      case "instance.group-name":
      case "group-name":
        return i.groups.map((g) => g.groupName);
      case "instance-lifecycle":
        return [i.instanceLifecycle];
      case "spot-instance-request-id":
        return [i.spotInstanceRequestId];
      case "root-device-type":
        return [i.rootDeviceType];
      case "architecture":
        return [i.architecture];
      case "owner-id":
        return [emu.accountId];
    }
  };
}

/** DescribeInstances: reservations with their (filtered) instances, terminated ones included. */
export const describeInstances: ActionHandler = (emu, p, ctx) => {
  const instances = applyFilters(
    select(emu, KINDS.instance, emu.instances, p.list("InstanceId"), ctx.region),
    p.filters(),
    instanceFilter(emu),
    (i) => emu.tagsOf(i.instanceId),
  );
  const byReservation = new Map<string, Instance[]>();
  for (const i of instances) {
    byReservation.set(i.reservationId, [...(byReservation.get(i.reservationId) ?? []), i]);
  }
  return {
    reservationSet: [...byReservation].map(([id, list]) =>
      renderReservation(emu, emu.reservations.get(id)!, list)
    ),
  };
};

/** TerminateInstances: → shutting-down (sshd stopped) → terminated after a delay. */
export const terminateInstances: ActionHandler = (emu, p, ctx) => {
  const ids = p.list("InstanceId");
  if (ids.length === 0) {
    throw new Ec2Error("MissingParameter", "The request must contain the parameter InstanceId");
  }
  const instances = select(emu, KINDS.instance, emu.instances, ids, ctx.region);
  return {
    instancesSet: instances.map((i) => {
      const previous = i.state;
      terminateInstance(emu, i);
      return {
        instanceId: i.instanceId,
        currentState: instanceState(i.state),
        previousState: instanceState(previous),
      };
    }),
  };
};

/** DescribeInstanceStatus: running instances (all with IncludeAllInstances), status checks `ok`. */
export const describeInstanceStatus: ActionHandler = (emu, p, ctx) => {
  const includeAll = p.bool("IncludeAllInstances") ?? false;
  const instances = applyFilters(
    select(emu, KINDS.instance, emu.instances, p.list("InstanceId"), ctx.region).filter((i) =>
      includeAll || i.state === "running"
    ),
    p.filters(),
    (i, name) => {
      const ok = i.state === "running" ? "ok" : "not-applicable";
      switch (name) {
        case "instance-state-name":
          return [i.state];
        case "instance-state-code":
          return [String(instanceState(i.state).code)];
        case "availability-zone":
          return [i.availabilityZone];
        case "instance-status.status":
        case "system-status.status":
          return [ok];
      }
    },
    (i) => emu.tagsOf(i.instanceId),
  );
  return {
    instanceStatusSet: instances.map((i) => {
      const status = i.state === "running" ? "ok" : "not-applicable";
      const summary = {
        status,
        details: i.state === "running" ? [{ name: "reachability", status: "passed" }] : undefined,
      };
      return {
        instanceId: i.instanceId,
        availabilityZone: i.availabilityZone,
        eventsSet: [],
        instanceState: instanceState(i.state),
        systemStatus: summary,
        instanceStatus: summary,
      };
    }),
  };
};

/** DescribeInstanceAttribute for the attributes a builder reads. */
export const describeInstanceAttribute: ActionHandler = (emu, p, ctx) => {
  const instance = one(emu, KINDS.instance, emu.instances, p.required("InstanceId"), ctx.region);
  const attribute = p.required("Attribute");
  const value = (v: string | undefined) => ({ value: v });
  const flag = (v: boolean) => ({ value: v });
  const members: Members = { instanceId: instance.instanceId };
  switch (attribute) {
    case "instanceType":
      members.instanceType = value(instance.instanceType);
      break;
    case "userData":
      members.userData = instance.userData === undefined ? {} : value(instance.userData);
      break;
    case "instanceInitiatedShutdownBehavior":
      members.instanceInitiatedShutdownBehavior = value(instance.shutdownBehavior);
      break;
    case "rootDeviceName":
      members.rootDeviceName = value(instance.rootDeviceName);
      break;
    case "disableApiTermination":
      members.disableApiTermination = flag(false);
      break;
    case "disableApiStop":
      members.disableApiStop = flag(false);
      break;
    case "sourceDestCheck":
      members.sourceDestCheck = flag(true);
      break;
    case "ebsOptimized":
      members.ebsOptimized = flag(instance.ebsOptimized);
      break;
    case "enaSupport":
      members.enaSupport = flag(instance.enaSupport ?? false);
      break;
    case "groupSet":
      members.groupSet = instance.groups;
      break;
    case "blockDeviceMapping":
      members.blockDeviceMapping = instance.volumes.map((v) => ({
        deviceName: v.deviceName,
        ebs: {
          volumeId: v.volumeId,
          status: "attached",
          deleteOnTermination: v.deleteOnTermination,
        },
      }));
      break;
    case "productCodes":
      members.productCodes = [];
      break;
    case "sriovNetSupport":
      members.sriovNetSupport = instance.sriovNetSupport === undefined
        ? {}
        : value(instance.sriovNetSupport);
      break;
    case "kernel":
    case "ramdisk":
      members[attribute] = {};
      break;
    default:
      throw invalidParameter("Attribute", attribute, "Unknown instance attribute");
  }
  return members;
};

/** GetPasswordData: Linux instances have none, so the data is empty. */
export const getPasswordData: ActionHandler = (emu, p, ctx) => {
  const instance = one(emu, KINDS.instance, emu.instances, p.required("InstanceId"), ctx.region);
  return { instanceId: instance.instanceId, timestamp: new Date(), passwordData: "" };
};
