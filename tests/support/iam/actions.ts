/**
 * The IAM actions the builders call: roles with inline policies and instance
 * profiles, with IAM's rules (one role per profile, no deleting a role that
 * still has policies or sits in a profile, no deleting a profile that still
 * holds a role) and error codes.
 */
import { Ec2Error } from "../ec2/errors.ts";
import type { QueryParams } from "../ec2/query.ts";
import type { IamTag, InstanceProfile, Role } from "./model.ts";
import type { IamStore } from "./store.ts";
import type { XmlValue } from "./xml.ts";

type Result = { [name: string]: XmlValue } | undefined;

/** The emulator's eventual-consistency fault, applied to IAM lookups by name. */
export interface Consistency {
  /** A new entity stays invisible to the next lookups while the fault is on. */
  created(key: string): void;
  /** Whether a lookup sees the entity now. */
  visible(key: string): boolean;
}

/** Handles one IAM action. */
export type IamAction = (iam: IamStore, p: QueryParams, c: Consistency) => Result;

const noSuchEntity = (message: string) => new Ec2Error("NoSuchEntity", message, 404);
const conflict = (code: string, message: string) => new Ec2Error(code, message, 409);

const NAME = /^[\w+=,.@-]{1,128}$/;

function name(p: QueryParams, param: string, max = 64): string {
  const value = p.required(param);
  if (!NAME.test(value) || value.length > max) {
    throw new Ec2Error(
      "ValidationError",
      `1 validation error detected: Value '${value}' at '${param}' failed to satisfy constraint: ` +
        `Member must satisfy regular expression pattern: [\\w+=,.@-]+ and length <= ${max}`,
    );
  }
  return value;
}

function policyDocument(p: QueryParams, param: string): string {
  const text = p.required(param);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Ec2Error("MalformedPolicyDocument", "Syntax errors in policy.");
  }
  const statements = (doc as { Statement?: unknown })?.Statement;
  if (!statements || (Array.isArray(statements) && statements.length === 0)) {
    throw new Ec2Error("MalformedPolicyDocument", "Policy document must contain a Statement.");
  }
  return text;
}

function tags(p: QueryParams): IamTag[] {
  return p.structs("Tags.member").map((t) => ({
    key: t.required("Key"),
    value: t.get("Value") ?? "",
  }));
}

const renderTags = (list: IamTag[]) =>
  list.length === 0 ? undefined : list.map((t) => ({ Key: t.key, Value: t.value }));

function renderRole(role: Role): { [name: string]: XmlValue } {
  return {
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    AssumeRolePolicyDocument: encodeURIComponent(role.assumeRolePolicyDocument),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    Tags: renderTags(role.tags),
  };
}

function renderProfile(iam: IamStore, profile: InstanceProfile): { [name: string]: XmlValue } {
  return {
    Path: profile.path,
    InstanceProfileName: profile.instanceProfileName,
    InstanceProfileId: profile.instanceProfileId,
    Arn: profile.arn,
    CreateDate: profile.createDate,
    Roles: profile.roles.map((r) => renderRole(iam.roles.get(r)!)),
    Tags: renderTags(profile.tags),
  };
}

function role(iam: IamStore, roleName: string, visible: Consistency["visible"]): Role {
  const found = iam.roles.get(roleName);
  if (!found || !visible(`iam-role:${roleName}`)) {
    throw noSuchEntity(`The role with name ${roleName} cannot be found.`);
  }
  return found;
}

function profile(
  iam: IamStore,
  profileName: string,
  visible: Consistency["visible"],
): InstanceProfile {
  const found = iam.instanceProfiles.get(profileName);
  if (!found || !visible(`iam-instance-profile:${profileName}`)) {
    throw noSuchEntity(`Instance Profile ${profileName} cannot be found.`);
  }
  return found;
}

const always = () => true;

function path(p: QueryParams): string {
  const value = p.optional("Path") ?? "/";
  if (!/^\/([\x21-\x7e]*\/)?$/.test(value)) {
    throw new Ec2Error("ValidationError", `The specified value for path is invalid: ${value}`);
  }
  return value;
}

const createRole: IamAction = (iam, p, c) => {
  const roleName = name(p, "RoleName");
  if (iam.roles.has(roleName)) {
    throw conflict("EntityAlreadyExists", `Role with name ${roleName} already exists.`);
  }
  const rolePath = path(p);
  const created: Role = {
    roleName,
    roleId: iam.newId("AROA"),
    arn: iam.arn("role", rolePath, roleName),
    path: rolePath,
    description: p.optional("Description"),
    assumeRolePolicyDocument: policyDocument(p, "AssumeRolePolicyDocument"),
    createDate: new Date(),
    maxSessionDuration: p.int("MaxSessionDuration") ?? 3600,
    tags: tags(p),
    policies: new Map(),
  };
  iam.roles.set(roleName, created);
  c.created(`iam-role:${roleName}`);
  return { Role: renderRole(created) };
};

const getRole: IamAction = (iam, p, c) => ({
  Role: renderRole(role(iam, p.required("RoleName"), c.visible)),
});

const deleteRole: IamAction = (iam, p) => {
  const target = role(iam, p.required("RoleName"), always);
  if (target.policies.size > 0) {
    throw conflict("DeleteConflict", "Cannot delete entity, must delete policies first.");
  }
  if ([...iam.instanceProfiles.values()].some((ip) => ip.roles.includes(target.roleName))) {
    throw conflict(
      "DeleteConflict",
      "Cannot delete entity, must remove roles from instance profile first.",
    );
  }
  iam.roles.delete(target.roleName);
  return undefined;
};

const putRolePolicy: IamAction = (iam, p) => {
  const target = role(iam, p.required("RoleName"), always);
  target.policies.set(name(p, "PolicyName", 128), policyDocument(p, "PolicyDocument"));
  return undefined;
};

const getRolePolicy: IamAction = (iam, p, c) => {
  const target = role(iam, p.required("RoleName"), c.visible);
  const policyName = p.required("PolicyName");
  const document = target.policies.get(policyName);
  if (document === undefined) {
    throw noSuchEntity(
      `The role policy with name ${policyName} cannot be found.`,
    );
  }
  return {
    RoleName: target.roleName,
    PolicyName: policyName,
    PolicyDocument: encodeURIComponent(document),
  };
};

const deleteRolePolicy: IamAction = (iam, p) => {
  const target = role(iam, p.required("RoleName"), always);
  const policyName = p.required("PolicyName");
  if (!target.policies.delete(policyName)) {
    throw noSuchEntity(`The role policy with name ${policyName} cannot be found.`);
  }
  return undefined;
};

const listRolePolicies: IamAction = (iam, p, c) => ({
  PolicyNames: [...role(iam, p.required("RoleName"), c.visible).policies.keys()],
  IsTruncated: false,
});

const createInstanceProfile: IamAction = (iam, p, c) => {
  const profileName = name(p, "InstanceProfileName", 128);
  if (iam.instanceProfiles.has(profileName)) {
    throw conflict("EntityAlreadyExists", `Instance Profile ${profileName} already exists.`);
  }
  const profilePath = path(p);
  const created: InstanceProfile = {
    instanceProfileName: profileName,
    instanceProfileId: iam.newId("AIPA"),
    arn: iam.arn("instance-profile", profilePath, profileName),
    path: profilePath,
    createDate: new Date(),
    tags: tags(p),
    roles: [],
    usableByEc2At: iam.usableAfterChange(),
  };
  iam.instanceProfiles.set(profileName, created);
  c.created(`iam-instance-profile:${profileName}`);
  return { InstanceProfile: renderProfile(iam, created) };
};

const getInstanceProfile: IamAction = (iam, p, c) => ({
  InstanceProfile: renderProfile(iam, profile(iam, p.required("InstanceProfileName"), c.visible)),
});

const deleteInstanceProfile: IamAction = (iam, p) => {
  const target = profile(iam, p.required("InstanceProfileName"), always);
  if (target.roles.length > 0) {
    throw conflict(
      "DeleteConflict",
      "Cannot delete entity, must remove roles from instance profile first.",
    );
  }
  iam.instanceProfiles.delete(target.instanceProfileName);
  return undefined;
};

const addRoleToInstanceProfile: IamAction = (iam, p) => {
  const target = profile(iam, p.required("InstanceProfileName"), always);
  const added = role(iam, p.required("RoleName"), always);
  if (target.roles.length > 0) {
    throw conflict(
      "LimitExceeded",
      "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
    );
  }
  target.roles.push(added.roleName);
  target.usableByEc2At = iam.usableAfterChange();
  return undefined;
};

const removeRoleFromInstanceProfile: IamAction = (iam, p) => {
  const target = profile(iam, p.required("InstanceProfileName"), always);
  const roleName = p.required("RoleName");
  if (!target.roles.includes(roleName)) {
    throw noSuchEntity(
      `The role with name ${roleName} cannot be found in instance profile ${target.instanceProfileName}.`,
    );
  }
  target.roles = target.roles.filter((r) => r !== roleName);
  return undefined;
};

const listInstanceProfilesForRole: IamAction = (iam, p, c) => {
  const target = role(iam, p.required("RoleName"), c.visible);
  return {
    InstanceProfiles: [...iam.instanceProfiles.values()]
      .filter((ip) => ip.roles.includes(target.roleName))
      .map((ip) => renderProfile(iam, ip)),
    IsTruncated: false,
  };
};

/** Action name → handler. */
export const IAM_ACTIONS: Record<string, IamAction> = {
  AddRoleToInstanceProfile: addRoleToInstanceProfile,
  CreateInstanceProfile: createInstanceProfile,
  CreateRole: createRole,
  DeleteInstanceProfile: deleteInstanceProfile,
  DeleteRole: deleteRole,
  DeleteRolePolicy: deleteRolePolicy,
  GetInstanceProfile: getInstanceProfile,
  GetRole: getRole,
  GetRolePolicy: getRolePolicy,
  ListInstanceProfilesForRole: listInstanceProfilesForRole,
  ListRolePolicies: listRolePolicies,
  PutRolePolicy: putRolePolicy,
  RemoveRoleFromInstanceProfile: removeRoleFromInstanceProfile,
};
