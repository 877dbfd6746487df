/** DescribeRegions, DescribeAvailabilityZones, DescribeVpcs, DescribeSubnets. */
import { applyFilters } from "../filters.ts";
import type { Subnet, Vpc } from "../model.ts";
import { zonesOf } from "../seed.ts";
import { Ec2Error } from "../errors.ts";
import { KINDS, select } from "./lookup.ts";
import type { ActionHandler } from "./types.ts";

const noTags = () => new Map<string, string>();

/** DescribeRegions: the emulator's regions, endpoints shaped like EC2's. */
export const describeRegions: ActionHandler = (emu, p) => {
  const names = p.list("RegionName");
  for (const name of names) {
    if (!emu.regions.includes(name)) {
      throw new Ec2Error("InvalidParameterValue", `Invalid region: ${name}`);
    }
  }
  const regions = applyFilters(
    emu.regions.filter((r) => names.length === 0 || names.includes(r)),
    p.filters(),
    (region, name) =>
      name === "region-name"
        ? [region]
        : name === "endpoint"
        ? [`ec2.${region}.amazonaws.com`]
        : name === "opt-in-status"
        ? ["opt-in-not-required"]
        : undefined,
    noTags,
  );
  return {
    regionInfo: regions.map((regionName) => ({
      regionName,
      regionEndpoint: `ec2.${regionName}.amazonaws.com`,
      optInStatus: "opt-in-not-required",
    })),
  };
};

/** DescribeAvailabilityZones: three zones in the request's region. */
export const describeAvailabilityZones: ActionHandler = (emu, p, ctx) => {
  const zones = zonesOf(ctx.region);
  const names = p.list("ZoneName");
  const ids = p.list("ZoneId");
  for (const name of names) {
    if (!zones.some((z) => z.zoneName === name)) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `The zone '${name}' does not exist in region '${ctx.region}'`,
      );
    }
  }
  const chosen = applyFilters(
    zones.filter((z) =>
      (names.length === 0 || names.includes(z.zoneName)) &&
      (ids.length === 0 || ids.includes(z.zoneId))
    ),
    p.filters(),
    (z, name) => {
      switch (name) {
        case "zone-name":
          return [z.zoneName];
        case "zone-id":
          return [z.zoneId];
        case "state":
          return ["available"];
        case "region-name":
          return [ctx.region];
        case "zone-type":
          return ["availability-zone"];
        case "opt-in-status":
          return ["opt-in-not-required"];
      }
    },
    noTags,
  );
  void emu;
  return {
    availabilityZoneInfo: chosen.map((z) => ({
      zoneName: z.zoneName,
      zoneState: "available",
      regionName: ctx.region,
      zoneId: z.zoneId,
      groupName: ctx.region,
      networkBorderGroup: ctx.region,
      zoneType: "availability-zone",
      optInStatus: "opt-in-not-required",
      messageSet: [],
    })),
  };
};

/** DescribeVpcs with ids and filters. */
export const describeVpcs: ActionHandler = (emu, p, ctx) => {
  const vpcs = applyFilters(
    select(emu, KINDS.vpc, emu.vpcs, p.list("VpcId"), ctx.region),
    p.filters(),
    (v: Vpc, name) => {
      switch (name) {
        case "vpc-id":
          return [v.vpcId];
        case "is-default":
          return [String(v.isDefault)];
        case "cidr":
        case "cidr-block-association.cidr-block":
          return [v.cidrBlock];
        case "state":
          return ["available"];
        case "owner-id":
          return [emu.accountId];
      }
    },
    (v) => emu.tagsOf(v.vpcId),
  );
  return {
    vpcSet: vpcs.map((v) => ({
      vpcId: v.vpcId,
      ownerId: emu.accountId,
      state: "available",
      cidrBlock: v.cidrBlock,
      cidrBlockAssociationSet: [{
        cidrBlock: v.cidrBlock,
        associationId: `vpc-cidr-assoc-${v.vpcId.slice(4)}`,
        cidrBlockState: { state: "associated" },
      }],
      dhcpOptionsId: "dopt-0f7e9a1b2c3d4e5f6",
      instanceTenancy: "default",
      isDefault: v.isDefault,
      tagSet: emu.tagSet(v.vpcId),
    })),
  };
};

/** DescribeSubnets with ids and filters. */
export const describeSubnets: ActionHandler = (emu, p, ctx) => {
  const subnets = applyFilters(
    select(emu, KINDS.subnet, emu.subnets, p.list("SubnetId"), ctx.region),
    p.filters(),
    (s: Subnet, name) => {
      switch (name) {
        case "subnet-id":
          return [s.subnetId];
        case "vpc-id":
          return [s.vpcId];
        case "availability-zone":
        case "availabilityZone":
          return [s.availabilityZone];
        case "availability-zone-id":
          return [s.availabilityZoneId];
        case "default-for-az":
        case "defaultForAz":
          return [String(s.defaultForAz)];
        case "map-public-ip-on-launch":
          return [String(s.mapPublicIpOnLaunch)];
        case "cidr-block":
        case "cidr":
        case "cidrBlock":
          return [s.cidrBlock];
        case "state":
          return ["available"];
        case "owner-id":
          return [emu.accountId];
      }
    },
    (s) => emu.tagsOf(s.subnetId),
  );
  return {
    subnetSet: subnets.map((s) => ({
      subnetId: s.subnetId,
      subnetArn: `arn:aws:ec2:${s.region}:${emu.accountId}:subnet/${s.subnetId}`,
      state: "available",
      ownerId: emu.accountId,
      vpcId: s.vpcId,
      cidrBlock: s.cidrBlock,
      availableIpAddressCount: 4091,
      availabilityZone: s.availabilityZone,
      availabilityZoneId: s.availabilityZoneId,
      defaultForAz: s.defaultForAz,
      mapPublicIpOnLaunch: s.mapPublicIpOnLaunch,
      assignIpv6AddressOnCreation: false,
      tagSet: emu.tagSet(s.subnetId),
    })),
  };
};
