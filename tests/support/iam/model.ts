/**
 * The IAM emulator's records: roles with their inline policies, and instance
 * profiles (at most one role each, as in IAM). Field names follow the IAM API
 * so the renderers map them onto wire names one to one.
 */

/** A tag as IAM lists it. */
export interface IamTag {
  key: string;
  value: string;
}

/** An IAM role. */
export interface Role {
  roleName: string;
  roleId: string;
  arn: string;
  path: string;
  description?: string;
  /** The trust policy (who may assume the role), as sent: URL-decoded JSON. */
  assumeRolePolicyDocument: string;
  createDate: Date;
  maxSessionDuration: number;
  tags: IamTag[];
  /** Inline policies by name (PutRolePolicy). */
  policies: Map<string, string>;
}

/** An IAM instance profile: what EC2 launches an instance with. */
export interface InstanceProfile {
  instanceProfileName: string;
  instanceProfileId: string;
  arn: string;
  path: string;
  createDate: Date;
  tags: IamTag[];
  /** Names of the roles in it (IAM allows one). */
  roles: string[];
  /**
   * When EC2 starts accepting the profile (epoch ms): IAM changes reach EC2
   * some seconds after the IAM call, so a launch right after creation fails.
   */
  usableByEc2At: number;
}
