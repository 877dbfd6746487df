/**
 * IAM state of one emulator, shared with the EC2 side (RunInstances and
 * launch templates name instance profiles). IAM is global: no region.
 */
import type { InstanceProfile, Role } from "./model.ts";

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Roles and instance profiles, by name. */
export class IamStore {
  readonly roles = new Map<string, Role>();
  readonly instanceProfiles = new Map<string, InstanceProfile>();
  readonly accountId: string;
  /** `iamPropagationMs`: how long a new or changed instance profile is refused by launches (live). */
  readonly #timing: { iamPropagationMs: number };
  #counter = 0;

  constructor(accountId: string, timing: { iamPropagationMs: number }) {
    this.accountId = accountId;
    this.#timing = timing;
  }

  /** When a profile changed now becomes usable by EC2 launches (epoch ms). */
  usableAfterChange(now = Date.now()): number {
    return now + this.#timing.iamPropagationMs;
  }

  /** A unique IAM id such as `AROA` + 17 characters (deterministic per store). */
  newId(prefix: "AROA" | "AIPA"): string {
    let n = ++this.#counter * 2654435761;
    let id = "";
    for (let i = 0; i < 17; i++) {
      id += ID_ALPHABET[n % 32];
      n = Math.floor(n / 32) + i * 7919;
    }
    return prefix + id;
  }

  /** `arn:aws:iam::<account>:<kind><path><name>`. */
  arn(kind: "role" | "instance-profile", path: string, name: string): string {
    return `arn:aws:iam::${this.accountId}:${kind}${path}${name}`;
  }

  /**
   * The profile an EC2 launch names (by name or ARN), if EC2 can use it yet.
   * Undefined when unknown or still propagating.
   */
  profileForLaunch(nameOrArn: string, now = Date.now()): InstanceProfile | undefined {
    const profile = nameOrArn.startsWith("arn:")
      ? [...this.instanceProfiles.values()].find((p) => p.arn === nameOrArn)
      : this.instanceProfiles.get(nameOrArn);
    return profile && now >= profile.usableByEc2At ? profile : undefined;
  }
}
