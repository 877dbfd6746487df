/** CreateSecurityGroup, AuthorizeSecurityGroupIngress, DeleteSecurityGroup, DescribeSecurityGroups. */
import type { Ec2Emulator } from "../emulator.ts";
import { Ec2Error } from "../errors.ts";
import { applyFilters } from "../filters.ts";
import type { IpPermission, SecurityGroup } from "../model.ts";
import type { QueryParams } from "../query.ts";
import { renderSecurityGroup } from "../render.ts";
import { KINDS, one, select } from "./lookup.ts";
import type { ActionHandler } from "./types.ts";

function defaultVpcId(emu: Ec2Emulator, region: string): string {
  const vpc = [...emu.vpcs.values()].find((v) => v.region === region && v.isDefault);
  if (!vpc) throw new Ec2Error("VPCIdNotSpecified", "No default VPC for this user");
  return vpc.vpcId;
}

/** Resolves `GroupId` or `GroupName` (the latter in the default VPC, as EC2 does). */
function groupFrom(emu: Ec2Emulator, p: QueryParams, region: string): SecurityGroup {
  const groupId = p.optional("GroupId");
  if (groupId) return one(emu, KINDS.securityGroup, emu.securityGroups, groupId, region);
  const groupName = p.optional("GroupName");
  if (!groupName) {
    throw new Ec2Error(
      "MissingParameter",
      "The request must contain the parameter GroupName or GroupId",
    );
  }
  const vpcId = defaultVpcId(emu, region);
  const group = [...emu.securityGroups.values()].find((g) =>
    g.region === region && g.vpcId === vpcId && g.groupName === groupName
  );
  if (!group) {
    throw new Ec2Error(
      "InvalidGroup.NotFound",
      `The security group '${groupName}' does not exist in default VPC '${vpcId}'`,
    );
  }
  return group;
}

/** CreateSecurityGroup (in `VpcId` or the default VPC), with the default allow-all egress rule. */
export const createSecurityGroup: ActionHandler = (emu, p, ctx) => {
  const groupName = p.required("GroupName");
  const description = p.required("GroupDescription");
  if (groupName.startsWith("sg-")) {
    throw new Ec2Error("InvalidParameterValue", "Group names may not be in the format sg-*");
  }
  const vpcId = p.optional("VpcId") ?? defaultVpcId(emu, ctx.region);
  one(emu, KINDS.vpc, emu.vpcs, vpcId, ctx.region);
  for (const g of emu.securityGroups.values()) {
    if (g.region === ctx.region && g.vpcId === vpcId && g.groupName === groupName) {
      throw new Ec2Error(
        "InvalidGroup.Duplicate",
        `The security group '${groupName}' already exists for VPC '${vpcId}'`,
      );
    }
  }
  const group: SecurityGroup = {
    groupId: emu.newId("sg"),
    region: ctx.region,
    groupName,
    description,
    vpcId,
    ownerId: emu.accountId,
    ingress: [],
    egress: [{ ipProtocol: "-1", ipRanges: [{ cidrIp: "0.0.0.0/0" }], ipv6Ranges: [], groups: [] }],
    isDefault: false,
  };
  emu.securityGroups.set(group.groupId, group);
  emu.applyTags(
    group.groupId,
    p.tagSpecifications().filter((s) => s.resourceType === "security-group").flatMap((s) => s.tags),
  );
  emu.created(group.groupId);
  return {
    return: true,
    groupId: group.groupId,
    securityGroupArn: `arn:aws:ec2:${ctx.region}:${emu.accountId}:security-group/${group.groupId}`,
    tagSet: emu.tagSet(group.groupId),
  };
};

function permissionsFrom(p: QueryParams, accountId: string): IpPermission[] {
  const structured = p.structs("IpPermissions").map((perm) => ({
    ipProtocol: perm.required("IpProtocol"),
    fromPort: perm.int("FromPort"),
    toPort: perm.int("ToPort"),
    ipRanges: perm.structs("IpRanges").map((r) => ({
      cidrIp: r.required("CidrIp"),
      description: r.get("Description"),
    })),
    ipv6Ranges: perm.structs("Ipv6Ranges").map((r) => ({
      cidrIpv6: r.required("CidrIpv6"),
      description: r.get("Description"),
    })),
    groups: perm.structs("Groups").map((g) => ({
      groupId: g.required("GroupId"),
      userId: g.get("UserId") ?? accountId,
    })),
  }));
  if (structured.length > 0) return structured;
  // The legacy top-level form: CidrIp + IpProtocol + FromPort/ToPort.
  const protocol = p.get("IpProtocol");
  if (!protocol) {
    throw new Ec2Error("MissingParameter", "The request must contain the parameter IpPermissions");
  }
  return [{
    ipProtocol: protocol,
    fromPort: p.int("FromPort"),
    toPort: p.int("ToPort"),
    ipRanges: p.get("CidrIp") ? [{ cidrIp: p.get("CidrIp")! }] : [],
    ipv6Ranges: [],
    groups: [],
  }];
}

function validCidr(cidr: string): boolean {
  const m = cidr.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/);
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}

/** AuthorizeSecurityGroupIngress: adds rules; an identical existing rule is `InvalidPermission.Duplicate`. */
export const authorizeSecurityGroupIngress: ActionHandler = (emu, p, ctx) => {
  const group = groupFrom(emu, p, ctx.region);
  const permissions = permissionsFrom(p, emu.accountId);
  const rules = [];
  for (const perm of permissions) {
    const protocol = perm.ipProtocol.toLowerCase();
    if (!["tcp", "udp", "icmp", "-1", "all", "6", "17", "1"].includes(protocol)) {
      throw new Ec2Error("InvalidParameterValue", `Invalid IP protocol: ${perm.ipProtocol}`);
    }
    for (const range of perm.ipRanges) {
      if (!validCidr(range.cidrIp)) {
        throw new Ec2Error(
          "InvalidParameterValue",
          `CIDR block ${range.cidrIp} is malformed`,
        );
      }
      const duplicate = group.ingress.some((existing) =>
        existing.ipProtocol === perm.ipProtocol && existing.fromPort === perm.fromPort &&
        existing.toPort === perm.toPort && existing.ipRanges.some((r) => r.cidrIp === range.cidrIp)
      );
      if (duplicate) {
        throw new Ec2Error(
          "InvalidPermission.Duplicate",
          `the specified rule "peer: ${range.cidrIp}, ${perm.ipProtocol.toUpperCase()}, from port: ${perm.fromPort}, to port: ${perm.toPort}, ALLOW" already exists`,
        );
      }
    }
    for (const g of perm.groups) {
      one(emu, KINDS.securityGroup, emu.securityGroups, g.groupId, ctx.region);
    }
  }
  for (const perm of permissions) {
    group.ingress.push(perm);
    for (const range of perm.ipRanges) {
      rules.push({
        securityGroupRuleId: emu.newId("sgr"),
        groupId: group.groupId,
        groupOwnerId: emu.accountId,
        isEgress: false,
        ipProtocol: perm.ipProtocol,
        fromPort: perm.fromPort,
        toPort: perm.toPort,
        cidrIpv4: range.cidrIp,
        description: range.description,
      });
    }
  }
  return { return: true, securityGroupRuleSet: rules };
};

/** The instances (not yet terminated) that use a group. */
export function instancesUsing(emu: Ec2Emulator, groupId: string): string[] {
  return [...emu.instances.values()].filter((i) =>
    i.state !== "terminated" && i.groups.some((g) => g.groupId === groupId)
  ).map((i) => i.instanceId);
}

/** DeleteSecurityGroup: `DependencyViolation` while an instance not yet terminated uses it. */
export const deleteSecurityGroup: ActionHandler = (emu, p, ctx) => {
  const group = groupFrom(emu, p, ctx.region);
  if (group.isDefault) {
    throw new Ec2Error(
      "CannotDelete",
      `the specified group: "${group.groupId}" name: "default" cannot be deleted by a user`,
    );
  }
  if (instancesUsing(emu, group.groupId).length > 0) {
    throw new Ec2Error("DependencyViolation", `resource ${group.groupId} has a dependent object`);
  }
  emu.securityGroups.delete(group.groupId);
  emu.tags.delete(group.groupId);
  return { return: true, groupId: group.groupId };
};

/** DescribeSecurityGroups by id, name and filters. */
export const describeSecurityGroups: ActionHandler = (emu, p, ctx) => {
  let groups = select(emu, KINDS.securityGroup, emu.securityGroups, p.list("GroupId"), ctx.region);
  const names = p.list("GroupName");
  if (names.length > 0) {
    const vpcId = defaultVpcId(emu, ctx.region);
    const missing = names.filter((n) =>
      !groups.some((g) => g.groupName === n && g.vpcId === vpcId)
    );
    if (missing.length > 0) {
      throw new Ec2Error(
        "InvalidGroup.NotFound",
        `The security group '${missing.join(", ")}' does not exist in default VPC '${vpcId}'`,
      );
    }
    groups = groups.filter((g) => names.includes(g.groupName) && g.vpcId === vpcId);
  }
  groups = applyFilters(groups, p.filters(), (g, name) => {
    switch (name) {
      case "group-id":
        return [g.groupId];
      case "group-name":
        return [g.groupName];
      case "vpc-id":
        return [g.vpcId];
      case "description":
        return [g.description];
      case "owner-id":
        return [g.ownerId];
      case "ip-permission.cidr":
        return g.ingress.flatMap((perm) => perm.ipRanges.map((r) => r.cidrIp));
      case "ip-permission.from-port":
        return g.ingress.map((perm) => String(perm.fromPort));
      case "ip-permission.to-port":
        return g.ingress.map((perm) => String(perm.toPort));
      case "ip-permission.protocol":
        return g.ingress.map((perm) => perm.ipProtocol);
    }
  }, (g) => emu.tagsOf(g.groupId));
  return { securityGroupInfo: groups.map((g) => renderSecurityGroup(emu, g)) };
};
