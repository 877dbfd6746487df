/**
 * The emulator's resource records. Field names follow the EC2 API so the
 * renderers in render.ts map them one to one onto wire names.
 */
import type { SshdHandle } from "../sshd.ts";

/** Instance state names and the codes EC2 pairs them with. */
export const INSTANCE_STATE_CODES = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
} as const;

/** An instance state name. */
export type InstanceStateName = keyof typeof INSTANCE_STATE_CODES;

/** A block device mapping as RegisterImage/RunInstances take it. */
export interface BlockDeviceMapping {
  deviceName: string;
  virtualName?: string;
  noDevice?: boolean;
  ebs?: {
    snapshotId?: string;
    volumeSize?: number;
    volumeType?: string;
    deleteOnTermination?: boolean;
    encrypted?: boolean;
    iops?: number;
    throughput?: number;
    kmsKeyId?: string;
  };
}

/** A launch permission entry of an image. */
export interface LaunchPermission {
  userId?: string;
  group?: string;
  organizationArn?: string;
  organizationalUnitArn?: string;
}

/** An AMI. */
export interface Image {
  imageId: string;
  region: string;
  name: string;
  description?: string;
  ownerId: string;
  ownerAlias?: string;
  state: "pending" | "available" | "failed";
  imageLocation: string;
  architecture: string;
  imageType: "machine";
  rootDeviceType: "instance-store" | "ebs";
  rootDeviceName?: string;
  virtualizationType: "paravirtual" | "hvm";
  hypervisor: "xen";
  creationDate: string;
  blockDeviceMappings: BlockDeviceMapping[];
  productCodes: string[];
  launchPermissions: LaunchPermission[];
  kernelId?: string;
  ramdiskId?: string;
  enaSupport?: boolean;
  sriovNetSupport?: string;
  bootMode?: string;
  tpmSupport?: string;
  imdsSupport?: string;
  sourceImageId?: string;
  sourceImageRegion?: string;
  /** When the image is (or was) deprecated, ISO 8601; past it, others see it only on request. */
  deprecationTime?: string;
  /** ClientToken of the CopyImage call that made it (a retry returns the same image). */
  copyClientToken?: string;
  /** True for the AMIs the emulator starts with (not part of the leak ledger). */
  seeded: boolean;
}

/** A key pair; the private key is never kept. */
export interface KeyPair {
  keyPairId: string;
  region: string;
  keyName: string;
  keyType: "rsa" | "ed25519";
  keyFingerprint: string;
  publicKey: string;
  createTime: Date;
}

/** One ingress or egress permission. */
export interface IpPermission {
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  ipRanges: { cidrIp: string; description?: string }[];
  ipv6Ranges: { cidrIpv6: string; description?: string }[];
  groups: { groupId: string; userId: string }[];
}

/** A security group. */
export interface SecurityGroup {
  groupId: string;
  region: string;
  groupName: string;
  description: string;
  vpcId: string;
  ownerId: string;
  ingress: IpPermission[];
  egress: IpPermission[];
  /** The VPC's `default` group, which cannot be deleted. */
  isDefault: boolean;
}

/** A VPC (seeded). */
export interface Vpc {
  vpcId: string;
  region: string;
  cidrBlock: string;
  isDefault: boolean;
}

/** A subnet (seeded). */
export interface Subnet {
  subnetId: string;
  region: string;
  vpcId: string;
  cidrBlock: string;
  availabilityZone: string;
  availabilityZoneId: string;
  defaultForAz: boolean;
  mapPublicIpOnLaunch: boolean;
}

/** An instance, backed by a real sshd once it runs. */
export interface Instance {
  instanceId: string;
  reservationId: string;
  region: string;
  imageId: string;
  instanceType: string;
  keyName?: string;
  /** Public key of the launch key pair, captured at launch (deleting the pair later keeps it). */
  authorizedKey?: string;
  state: InstanceStateName;
  stateReason?: { code: string; message: string };
  stateTransitionReason: string;
  launchTime: Date;
  amiLaunchIndex: number;
  /** Loopback addresses, so connecting to them by mistake never leaves the machine. */
  privateIpAddress: string;
  publicIpAddress?: string;
  privateDnsName: string;
  publicDnsName: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  tenancy: string;
  groups: { groupId: string; groupName: string }[];
  clientToken?: string;
  userData?: string;
  architecture: string;
  rootDeviceType: string;
  rootDeviceName?: string;
  virtualizationType: string;
  shutdownBehavior: string;
  ebsOptimized: boolean;
  iamInstanceProfile?: { arn: string; id: string };
  metadataOptions: { httpTokens: string; httpEndpoint: string; httpPutResponseHopLimit: number };
  instanceLifecycle?: "spot";
  spotInstanceRequestId?: string;
  /** Directory standing in for the instance's root file system (what ec2-bundle-vol images). */
  rootDir: string;
  /** Host directory the instance sees as /tmp (its own; removed when it terminates). */
  tmpDir: string;
  sshd?: SshdHandle;
  /** 1-based launch ordinal over the emulator's lifetime (fault switches refer to it). */
  ordinal: number;
  /** EBS volumes attached at launch (an EBS AMI's mappings merged with the request's). */
  volumes: { deviceName: string; volumeId: string; deleteOnTermination: boolean }[];
  /** Set by ModifyInstanceAttribute (EnaSupport / SriovNetSupport); CreateImage copies them. */
  enaSupport?: boolean;
  sriovNetSupport?: string;
}

/** An EBS volume: made by a launch from a mapping, deleted with its instance or by hand. */
export interface Volume {
  volumeId: string;
  region: string;
  size: number;
  snapshotId?: string;
  availabilityZone: string;
  state: "in-use" | "available";
  volumeType: string;
  encrypted: boolean;
  kmsKeyId?: string;
  iops?: number;
  createTime: Date;
  attachment?: { instanceId: string; device: string; deleteOnTermination: boolean };
}

/** An EBS snapshot: made by CreateImage (one per EBS volume) or CopyImage. */
export interface Snapshot {
  snapshotId: string;
  region: string;
  volumeId: string;
  volumeSize: number;
  state: "pending" | "completed";
  startTime: Date;
  ownerId: string;
  /** EC2's own words, naming the AMI it was made for (how a leaked snapshot is found). */
  description: string;
  encrypted: boolean;
  kmsKeyId?: string;
  /** createVolumePermission entries (ModifySnapshotAttribute). */
  createVolumePermissions: { userId?: string; group?: string }[];
  /** True for the snapshots behind seeded EBS AMIs (not part of the leak ledger). */
  seeded: boolean;
}

/** A reservation: what one RunInstances call returned. */
export interface Reservation {
  reservationId: string;
  region: string;
  instanceIds: string[];
  clientToken?: string;
  /** Digest of the request parameters except ClientToken, for IdempotentParameterMismatch. */
  requestDigest?: string;
}

/** A spot instance request. */
export interface SpotRequest {
  spotInstanceRequestId: string;
  region: string;
  spotPrice: string;
  type: string;
  state: "open" | "active" | "closed" | "cancelled" | "failed";
  statusCode: string;
  statusMessage: string;
  updateTime: Date;
  createTime: Date;
  instanceId?: string;
  launchSpecification: {
    imageId: string;
    instanceType: string;
    keyName?: string;
    subnetId?: string;
    groupIds: string[];
    availabilityZone?: string;
  };
}

/** A launch template (one version): what CreateFleet launches from. */
export interface LaunchTemplate {
  launchTemplateId: string;
  launchTemplateName: string;
  region: string;
  createTime: Date;
  /** The raw `LaunchTemplateData.*` parameters, read again at launch time. */
  data: [string, string][];
  /** ClientToken of the CreateLaunchTemplate call (a retry returns this template). */
  clientToken?: string;
  /** The call's parameters but the token: a retry must repeat them exactly. */
  requestDigest?: string;
}

/** What an instant fleet could not launch, as `errorSet` lists it. */
export interface FleetError {
  errorCode: string;
  errorMessage: string;
  instanceType: string;
}

/** An EC2 Fleet (instant fleets are the only kind launched). */
export interface Fleet {
  fleetId: string;
  region: string;
  type: string;
  instanceIds: string[];
  state: "active" | "deleted";
  createTime: Date;
  launchTemplateId: string;
  targetCapacity: number;
  lifecycle: "spot" | "on-demand";
  /** The instance type the fleet launched (the cheapest override that fitted). */
  instanceType?: string;
  errors: FleetError[];
  clientToken?: string;
  /** Digest of the request parameters except ClientToken, for IdempotentParameterMismatch. */
  requestDigest?: string;
}
