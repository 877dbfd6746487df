/** Maps emulator records onto the EC2 wire shapes (element names from the API reference). */
import type { Ec2Emulator } from "./emulator.ts";
import {
  type BlockDeviceMapping,
  type Image,
  type Instance,
  INSTANCE_STATE_CODES,
  type InstanceStateName,
  type IpPermission,
  type SecurityGroup,
  type SpotRequest,
} from "./model.ts";
import type { XmlValue } from "./xml.ts";

type Members = { [name: string]: XmlValue };

/** `{code, name}` of an instance state. */
export function instanceState(name: InstanceStateName): Members {
  return { code: INSTANCE_STATE_CODES[name], name };
}

/** A block device mapping item. */
export function renderBlockDevice(b: BlockDeviceMapping): Members {
  return {
    deviceName: b.deviceName,
    virtualName: b.virtualName,
    noDevice: b.noDevice ? "" : undefined,
    ebs: b.ebs
      ? {
        snapshotId: b.ebs.snapshotId,
        volumeSize: b.ebs.volumeSize,
        deleteOnTermination: b.ebs.deleteOnTermination,
        volumeType: b.ebs.volumeType,
        iops: b.ebs.iops,
        throughput: b.ebs.throughput,
        encrypted: b.ebs.encrypted,
        kmsKeyId: b.ebs.kmsKeyId,
      }
      : undefined,
  };
}

/** An `imagesSet` item. */
export function renderImage(emu: Ec2Emulator, image: Image): Members {
  return {
    imageId: image.imageId,
    imageLocation: image.imageLocation,
    imageState: image.state,
    imageOwnerId: image.ownerId,
    creationDate: image.creationDate,
    isPublic: image.launchPermissions.some((p) => p.group === "all"),
    productCodes: image.productCodes.map((code) => ({ productCode: code, type: "marketplace" })),
    architecture: image.architecture,
    imageType: image.imageType,
    kernelId: image.kernelId,
    ramdiskId: image.ramdiskId,
    platformDetails: "Linux/UNIX",
    usageOperation: "RunInstances",
    imageOwnerAlias: image.ownerAlias,
    name: image.name,
    description: image.description,
    rootDeviceType: image.rootDeviceType,
    rootDeviceName: image.rootDeviceName,
    blockDeviceMapping: image.blockDeviceMappings.map(renderBlockDevice),
    virtualizationType: image.virtualizationType,
    tagSet: emu.tagSet(image.imageId),
    hypervisor: image.hypervisor,
    enaSupport: image.enaSupport,
    sriovNetSupport: image.sriovNetSupport,
    bootMode: image.bootMode,
    tpmSupport: image.tpmSupport,
    imdsSupport: image.imdsSupport,
    sourceImageId: image.sourceImageId,
    sourceImageRegion: image.sourceImageRegion,
    deprecationTime: image.deprecationTime,
  };
}

/** An `instancesSet` item. */
export function renderInstance(emu: Ec2Emulator, i: Instance): Members {
  return {
    instanceId: i.instanceId,
    imageId: i.imageId,
    instanceState: instanceState(i.state),
    privateDnsName: i.state === "terminated" ? "" : i.privateDnsName,
    dnsName: i.state === "terminated" || !i.publicIpAddress ? "" : i.publicDnsName,
    reason: i.stateTransitionReason,
    keyName: i.keyName,
    amiLaunchIndex: i.amiLaunchIndex,
    productCodes: [],
    instanceType: i.instanceType,
    launchTime: i.launchTime,
    placement: { availabilityZone: i.availabilityZone, groupName: "", tenancy: i.tenancy },
    monitoring: { state: "disabled" },
    subnetId: i.state === "terminated" ? undefined : i.subnetId,
    vpcId: i.state === "terminated" ? undefined : i.vpcId,
    privateIpAddress: i.state === "terminated" ? undefined : i.privateIpAddress,
    ipAddress: i.state === "running" || i.state === "pending" ? i.publicIpAddress : undefined,
    sourceDestCheck: true,
    groupSet: i.state === "terminated" ? [] : i.groups,
    stateReason: i.stateReason,
    architecture: i.architecture,
    rootDeviceType: i.rootDeviceType,
    rootDeviceName: i.rootDeviceName,
    blockDeviceMapping: i.volumes.map((v) => ({
      deviceName: v.deviceName,
      ebs: { volumeId: v.volumeId, status: "attached", deleteOnTermination: v.deleteOnTermination },
    })),
    virtualizationType: i.virtualizationType,
    clientToken: i.clientToken ?? "",
    tagSet: emu.tagSet(i.instanceId),
    hypervisor: "xen",
    ebsOptimized: i.ebsOptimized,
    enaSupport: i.enaSupport ?? false,
    sriovNetSupport: i.sriovNetSupport,
    instanceLifecycle: i.instanceLifecycle,
    spotInstanceRequestId: i.spotInstanceRequestId,
    iamInstanceProfile: i.iamInstanceProfile,
    metadataOptions: {
      state: "applied",
      httpTokens: i.metadataOptions.httpTokens,
      httpPutResponseHopLimit: i.metadataOptions.httpPutResponseHopLimit,
      httpEndpoint: i.metadataOptions.httpEndpoint,
    },
  };
}

function renderPermission(p: IpPermission): Members {
  return {
    ipProtocol: p.ipProtocol,
    fromPort: p.fromPort,
    toPort: p.toPort,
    groups: p.groups,
    ipRanges: p.ipRanges,
    ipv6Ranges: p.ipv6Ranges,
    prefixListIds: [],
  };
}

/** A `securityGroupInfo` item. */
export function renderSecurityGroup(emu: Ec2Emulator, g: SecurityGroup): Members {
  return {
    ownerId: g.ownerId,
    groupId: g.groupId,
    groupName: g.groupName,
    groupDescription: g.description,
    ipPermissions: g.ingress.map(renderPermission),
    ipPermissionsEgress: g.egress.map(renderPermission),
    vpcId: g.vpcId,
    securityGroupArn: `arn:aws:ec2:${g.region}:${g.ownerId}:security-group/${g.groupId}`,
    tagSet: emu.tagSet(g.groupId),
  };
}

/** A `spotInstanceRequestSet` item. */
export function renderSpotRequest(emu: Ec2Emulator, r: SpotRequest): Members {
  const spec = r.launchSpecification;
  return {
    spotInstanceRequestId: r.spotInstanceRequestId,
    spotPrice: r.spotPrice,
    type: r.type,
    state: r.state,
    status: { code: r.statusCode, updateTime: r.updateTime, message: r.statusMessage },
    launchSpecification: {
      imageId: spec.imageId,
      keyName: spec.keyName,
      groupSet: spec.groupIds.map((groupId) => ({
        groupId,
        groupName: emu.securityGroups.get(groupId)?.groupName,
      })),
      instanceType: spec.instanceType,
      placement: spec.availabilityZone ? { availabilityZone: spec.availabilityZone } : undefined,
      subnetId: spec.subnetId,
      monitoring: { enabled: false },
    },
    instanceId: r.instanceId,
    createTime: r.createTime,
    productDescription: "Linux/UNIX",
    tagSet: emu.tagSet(r.spotInstanceRequestId),
    launchedAvailabilityZone: r.instanceId
      ? emu.instances.get(r.instanceId)?.availabilityZone
      : undefined,
    instanceInterruptionBehavior: "terminate",
  };
}
