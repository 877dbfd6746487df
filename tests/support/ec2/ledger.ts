/**
 * What is alive in an emulator: the `GET /_kiln/state` ledger tests use to
 * assert that a build (or its cleanup) leaked nothing, and the
 * `GET /_kiln/instances` view with each instance's SSH address.
 */
import type { S3Store } from "../s3/store.ts";
import type { Ec2Emulator } from "./emulator.ts";

/** Live resources, by kind. */
export interface Ledger {
  /** Instances not yet terminated (shutting-down counts as alive). */
  instances: { instanceId: string; state: string; region: string; tags: Record<string, string> }[];
  keyPairs: { keyPairId: string; keyName: string; region: string; tags: Record<string, string> }[];
  /** Security groups other than the seeded `default` ones. */
  securityGroups: {
    groupId: string;
    groupName: string;
    region: string;
    tags: Record<string, string>;
  }[];
  /** Images the caller registered or copied (seeded AMIs are not listed). */
  images: {
    imageId: string;
    name: string;
    region: string;
    state: string;
    tags: Record<string, string>;
  }[];
  /** Snapshots the caller's CreateImage / CopyImage made (an AMI's snapshots outlive it). */
  snapshots: { snapshotId: string; region: string; state: string; tags: Record<string, string> }[];
  /** EBS volumes that exist (attached or not). */
  volumes: { volumeId: string; region: string; state: string; tags: Record<string, string> }[];
  /** Spot requests still open or active. */
  spotRequests: { spotInstanceRequestId: string; state: string; region: string }[];
  /** Launch templates (Packer's spot path creates one per build). */
  launchTemplates: { launchTemplateId: string; launchTemplateName: string; region: string }[];
  /** IAM roles (kiln's temporary instance profile makes one per build). */
  iamRoles: { roleName: string; arn: string; policies: string[]; tags: Record<string, string> }[];
  /** IAM instance profiles with the roles in them. */
  instanceProfiles: {
    instanceProfileName: string;
    arn: string;
    roles: string[];
    tags: Record<string, string>;
  }[];
  /** S3 objects as `bucket/key`. */
  s3Objects: string[];
  /** EC2 calls received, by action. */
  calls: Record<string, number>;
  /** Injected faults, by error code. */
  faultsInjected: Record<string, number>;
  /** Instances ever launched. */
  launches: number;
}

/** An instance as the debug endpoint shows it. */
export interface InstanceView {
  instanceId: string;
  state: string;
  region: string;
  keyName?: string;
  privateIpAddress: string;
  publicIpAddress?: string;
  privateDnsName: string;
  publicDnsName: string;
  /** Where its sshd listens (loopback), or null while it has none. */
  ssh: { host: string; port: number } | null;
  rootDir: string;
  /** Host directory the instance sees as /tmp. */
  tmpDir: string;
}

/** Builds the ledger of live resources. */
export function ledgerOf(emu: Ec2Emulator, s3: S3Store | undefined): Ledger {
  const tags = (id: string) => Object.fromEntries(emu.tags.get(id) ?? []);
  return {
    instances: [...emu.instances.values()].filter((i) => i.state !== "terminated").map((i) => ({
      instanceId: i.instanceId,
      state: i.state,
      region: i.region,
      tags: tags(i.instanceId),
    })),
    keyPairs: [...emu.keyPairs.values()].map((k) => ({
      keyPairId: k.keyPairId,
      keyName: k.keyName,
      region: k.region,
      tags: tags(k.keyPairId),
    })),
    securityGroups: [...emu.securityGroups.values()].filter((g) => !g.isDefault).map((g) => ({
      groupId: g.groupId,
      groupName: g.groupName,
      region: g.region,
      tags: tags(g.groupId),
    })),
    images: [...emu.images.values()].filter((i) => !i.seeded).map((i) => ({
      imageId: i.imageId,
      name: i.name,
      region: i.region,
      state: i.state,
      tags: tags(i.imageId),
    })),
    snapshots: [...emu.snapshots.values()].filter((s) => !s.seeded).map((s) => ({
      snapshotId: s.snapshotId,
      region: s.region,
      state: s.state,
      tags: tags(s.snapshotId),
    })),
    volumes: [...emu.volumes.values()].map((v) => ({
      volumeId: v.volumeId,
      region: v.region,
      state: v.state,
      tags: tags(v.volumeId),
    })),
    spotRequests: [...emu.spotRequests.values()].filter((r) =>
      r.state === "open" || r.state === "active"
    ).map((r) => ({
      spotInstanceRequestId: r.spotInstanceRequestId,
      state: r.state,
      region: r.region,
    })),
    launchTemplates: [...emu.launchTemplates.values()].map((t) => ({
      launchTemplateId: t.launchTemplateId,
      launchTemplateName: t.launchTemplateName,
      region: t.region,
    })),
    iamRoles: [...emu.iam.roles.values()].map((r) => ({
      roleName: r.roleName,
      arn: r.arn,
      policies: [...r.policies.keys()],
      tags: Object.fromEntries(r.tags.map((t) => [t.key, t.value])),
    })),
    instanceProfiles: [...emu.iam.instanceProfiles.values()].map((p) => ({
      instanceProfileName: p.instanceProfileName,
      arn: p.arn,
      roles: [...p.roles],
      tags: Object.fromEntries(p.tags.map((t) => [t.key, t.value])),
    })),
    s3Objects: s3?.listAll() ?? [],
    calls: Object.fromEntries(emu.calls),
    faultsInjected: Object.fromEntries(emu.faults.injected),
    launches: emu.launches,
  };
}

/** The SSH address of an instance by any of its IPs or DNS names, while its sshd runs. */
export function hostFor(
  emu: Ec2Emulator,
  address: string,
): { host: string; port: number } | undefined {
  for (const i of emu.instances.values()) {
    if (!i.sshd || i.state === "terminated" || i.state === "shutting-down") continue;
    const port = emu.sshPort ?? i.sshd.port;
    if (address === i.privateIpAddress || address === i.privateDnsName) {
      return { host: i.privateIpAddress, port };
    }
    if (i.publicIpAddress && (address === i.publicIpAddress || address === i.publicDnsName)) {
      return { host: i.publicIpAddress, port };
    }
  }
  return undefined;
}

/** Every instance with its SSH address. */
export function instanceViews(emu: Ec2Emulator): InstanceView[] {
  return [...emu.instances.values()].map((i) => ({
    instanceId: i.instanceId,
    state: i.state,
    region: i.region,
    keyName: i.keyName,
    privateIpAddress: i.privateIpAddress,
    publicIpAddress: i.publicIpAddress,
    privateDnsName: i.privateDnsName,
    publicDnsName: i.publicDnsName,
    ssh: i.sshd && i.state !== "terminated" && i.state !== "shutting-down"
      ? { host: i.privateIpAddress, port: emu.sshPort ?? i.sshd.port }
      : null,
    rootDir: i.rootDir,
    tmpDir: i.tmpDir,
  }));
}
