/**
 * The world an emulator starts with, in every region: a default VPC with one
 * default subnet per availability zone, a second non-default VPC with a
 * private subnet, each VPC's `default` security group, and public source AMIs
 * — several instance-store ones (what amazon-instance builds from) and an EBS
 * one (which amazon-instance must refuse).
 */
import type { Ec2Emulator } from "./emulator.ts";
import type { Image } from "./model.ts";

/** Amazon's AMI owner account. */
export const AMAZON_OWNER_ID = "137112412989";
/** Canonical's AMI owner account. */
export const CANONICAL_OWNER_ID = "099720109477";

/** The seeded AMIs (the same names in every region, different ids). */
export const SEED_IMAGES: Omit<Image, "imageId" | "region" | "seeded">[] = [
  {
    name: "amzn-ami-minimal-pv-2018.03.0.20231218.0-x86_64-s3",
    description: "Amazon Linux AMI minimal PV instance-store",
    ownerId: AMAZON_OWNER_ID,
    ownerAlias: "amazon",
    state: "available",
    imageLocation:
      "amzn-ami-us-east-1/amzn-ami-minimal-pv-2018.03.0.20231218.0-x86_64-s3.manifest.xml",
    architecture: "x86_64",
    imageType: "machine",
    rootDeviceType: "instance-store",
    virtualizationType: "paravirtual",
    hypervisor: "xen",
    creationDate: "2023-12-18T22:11:41.000Z",
    blockDeviceMappings: [{ deviceName: "sda2", virtualName: "ephemeral0" }],
    productCodes: [],
    launchPermissions: [{ group: "all" }],
    kernelId: "aki-919dcaf8",
  },
  {
    name: "amzn-ami-hvm-2018.03.0.20231218.0-x86_64-s3",
    description: "Amazon Linux AMI HVM instance-store",
    ownerId: AMAZON_OWNER_ID,
    ownerAlias: "amazon",
    state: "available",
    imageLocation: "amzn-ami-us-east-1/amzn-ami-hvm-2018.03.0.20231218.0-x86_64-s3.manifest.xml",
    architecture: "x86_64",
    imageType: "machine",
    rootDeviceType: "instance-store",
    rootDeviceName: "/dev/sda1",
    virtualizationType: "hvm",
    hypervisor: "xen",
    creationDate: "2023-12-18T22:14:03.000Z",
    blockDeviceMappings: [{ deviceName: "/dev/sdb", virtualName: "ephemeral0" }],
    productCodes: [],
    launchPermissions: [{ group: "all" }],
  },
  {
    name: "ubuntu/images/hvm-instance/ubuntu-bionic-18.04-amd64-server-20230425",
    description: "Canonical, Ubuntu, 18.04 LTS, amd64 bionic image build on 2023-04-25",
    ownerId: CANONICAL_OWNER_ID,
    state: "available",
    imageLocation:
      "ubuntu-images-us-east-1-release/bionic/20230425/hvm/instance-store/image.img.manifest.xml",
    architecture: "x86_64",
    imageType: "machine",
    rootDeviceType: "instance-store",
    rootDeviceName: "/dev/sda1",
    virtualizationType: "hvm",
    hypervisor: "xen",
    creationDate: "2023-04-26T09:12:53.000Z",
    blockDeviceMappings: [{ deviceName: "/dev/sdb", virtualName: "ephemeral0" }],
    productCodes: [],
    launchPermissions: [{ group: "all" }],
  },
  {
    name: "ubuntu/images/hvm-instance/ubuntu-bionic-18.04-amd64-server-20230531",
    description: "Canonical, Ubuntu, 18.04 LTS, amd64 bionic image build on 2023-05-31",
    ownerId: CANONICAL_OWNER_ID,
    state: "available",
    imageLocation:
      "ubuntu-images-us-east-1-release/bionic/20230531/hvm/instance-store/image.img.manifest.xml",
    architecture: "x86_64",
    imageType: "machine",
    rootDeviceType: "instance-store",
    rootDeviceName: "/dev/sda1",
    virtualizationType: "hvm",
    hypervisor: "xen",
    creationDate: "2023-06-01T08:40:10.000Z",
    blockDeviceMappings: [{ deviceName: "/dev/sdb", virtualName: "ephemeral0" }],
    productCodes: [],
    launchPermissions: [{ group: "all" }],
  },
  {
    name: "amzn2-ami-hvm-2.0.20231218.0-x86_64-gp2",
    description: "Amazon Linux 2 AMI 2.0.20231218.0 x86_64 HVM gp2",
    ownerId: AMAZON_OWNER_ID,
    ownerAlias: "amazon",
    state: "available",
    imageLocation: "amazon/amzn2-ami-hvm-2.0.20231218.0-x86_64-gp2",
    architecture: "x86_64",
    imageType: "machine",
    rootDeviceType: "ebs",
    rootDeviceName: "/dev/xvda",
    virtualizationType: "hvm",
    hypervisor: "xen",
    creationDate: "2023-12-19T01:02:33.000Z",
    blockDeviceMappings: [{
      deviceName: "/dev/xvda",
      ebs: {
        snapshotId: "snap-0c5b2d4f6e8a1b3c5",
        volumeSize: 8,
        volumeType: "gp2",
        deleteOnTermination: true,
        encrypted: false,
      },
    }],
    productCodes: [],
    launchPermissions: [{ group: "all" }],
    enaSupport: true,
  },
];

/** `use1` for `us-east-1`: the prefix of availability zone ids. */
function zoneIdPrefix(region: string): string {
  const [area, direction, n] = region.split("-");
  return `${area}${direction[0]}${n}`;
}

/** The availability zones of a region. */
export function zonesOf(region: string): { zoneName: string; zoneId: string }[] {
  return ["a", "b", "c"].map((letter, i) => ({
    zoneName: `${region}${letter}`,
    zoneId: `${zoneIdPrefix(region)}-az${i + 1}`,
  }));
}

/** Fills a fresh emulator with the seeded world. */
export function seed(emu: Ec2Emulator): void {
  for (const region of emu.regions) {
    const defaultVpc = emu.newId("vpc");
    emu.vpcs.set(defaultVpc, {
      vpcId: defaultVpc,
      region,
      cidrBlock: "172.31.0.0/16",
      isDefault: true,
    });
    zonesOf(region).forEach(({ zoneName, zoneId }, i) => {
      const subnetId = emu.newId("subnet");
      emu.subnets.set(subnetId, {
        subnetId,
        region,
        vpcId: defaultVpc,
        cidrBlock: `172.31.${i * 16}.0/20`,
        availabilityZone: zoneName,
        availabilityZoneId: zoneId,
        defaultForAz: true,
        mapPublicIpOnLaunch: true,
      });
    });
    const privateVpc = emu.newId("vpc");
    emu.vpcs.set(privateVpc, {
      vpcId: privateVpc,
      region,
      cidrBlock: "10.20.0.0/16",
      isDefault: false,
    });
    emu.applyTags(privateVpc, [{ key: "Name", value: "kiln-private" }]);
    const privateSubnet = emu.newId("subnet");
    const zone = zonesOf(region)[0];
    emu.subnets.set(privateSubnet, {
      subnetId: privateSubnet,
      region,
      vpcId: privateVpc,
      cidrBlock: "10.20.1.0/24",
      availabilityZone: zone.zoneName,
      availabilityZoneId: zone.zoneId,
      defaultForAz: false,
      mapPublicIpOnLaunch: false,
    });
    emu.applyTags(privateSubnet, [{ key: "Name", value: "kiln-private-a" }]);
    for (const vpcId of [defaultVpc, privateVpc]) {
      const groupId = emu.newId("sg");
      emu.securityGroups.set(groupId, {
        groupId,
        region,
        groupName: "default",
        description: "default VPC security group",
        vpcId,
        ownerId: emu.accountId,
        ingress: [],
        egress: [{
          ipProtocol: "-1",
          ipRanges: [{ cidrIp: "0.0.0.0/0" }],
          ipv6Ranges: [],
          groups: [],
        }],
        isDefault: true,
      });
    }
    for (const image of SEED_IMAGES) {
      const imageId = emu.newId("ami");
      emu.images.set(imageId, {
        ...structuredClone(image),
        imageLocation: image.imageLocation.replace("us-east-1", region),
        imageId,
        region,
        seeded: true,
      });
    }
  }
}

/** An image a test adds to the world: anything not given is the seeded EBS image's. */
export type ExtraImage = Partial<Omit<Image, "imageId" | "region" | "seeded">> & {
  name: string;
  ownerId: string;
  creationDate: string;
};

/**
 * Adds a public image to a region as if another account had registered it
 * (like the seeded ones, not part of the leak ledger) and returns its id.
 */
export function addImage(
  emu: Ec2Emulator,
  region: string,
  image: ExtraImage,
  tags: Record<string, string> = {},
): string {
  const base = structuredClone(SEED_IMAGES[SEED_IMAGES.length - 1]);
  const imageId = emu.newId("ami");
  emu.images.set(imageId, {
    ...base,
    ownerAlias: undefined,
    imageLocation: `${image.ownerId}/${image.name}`,
    ...image,
    imageId,
    region,
    seeded: true,
  });
  const list = Object.entries(tags).map(([key, value]) => ({ key, value }));
  if (list.length) emu.applyTags(imageId, list);
  return imageId;
}
