/**
 * Id lookups shared by the Describe and mutating actions, with EC2's error codes
 * for malformed and unknown ids and the eventual-consistency fault applied.
 */
import type { Ec2Emulator } from "../emulator.ts";
import { Ec2Error } from "../errors.ts";

/** How one kind of resource is named in errors. */
export interface IdKind {
  prefix: string;
  /** e.g. `InvalidInstanceID` (`.NotFound` / `.Malformed` are appended). */
  errorBase: string;
  /** Error message for one unknown id. */
  notFound: (ids: string[]) => string;
  /** Override for the malformed code, e.g. `InvalidGroupId.Malformed`. */
  malformedCode?: string;
}

/** The id kinds. */
export const KINDS = {
  instance: {
    prefix: "i",
    errorBase: "InvalidInstanceID",
    notFound: (ids: string[]) =>
      ids.length === 1
        ? `The instance ID '${ids[0]}' does not exist`
        : `The instance IDs '${ids.join(", ")}' do not exist`,
  },
  image: {
    prefix: "ami",
    errorBase: "InvalidAMIID",
    notFound: (ids: string[]) => `The image id '[${ids.join(", ")}]' does not exist`,
  },
  securityGroup: {
    prefix: "sg",
    errorBase: "InvalidGroup",
    malformedCode: "InvalidGroupId.Malformed",
    notFound: (ids: string[]) => `The security group '${ids.join(", ")}' does not exist`,
  },
  keyPair: {
    prefix: "key",
    errorBase: "InvalidKeyPair",
    notFound: (ids: string[]) => `The key pair '${ids.join(", ")}' does not exist`,
  },
  vpc: {
    prefix: "vpc",
    errorBase: "InvalidVpcID",
    notFound: (ids: string[]) => `The vpc ID '${ids.join(", ")}' does not exist`,
  },
  subnet: {
    prefix: "subnet",
    errorBase: "InvalidSubnetID",
    notFound: (ids: string[]) => `The subnet ID '${ids.join(", ")}' does not exist`,
  },
  spotRequest: {
    prefix: "sir",
    errorBase: "InvalidSpotInstanceRequestID",
    notFound: (ids: string[]) => `The spot instance request ID '${ids.join(", ")}' does not exist`,
  },
  launchTemplate: {
    prefix: "lt",
    errorBase: "InvalidLaunchTemplateId",
    notFound: (ids: string[]) =>
      `The specified launch template, with template ID ${ids.join(", ")}, does not exist.`,
  },
  volume: {
    prefix: "vol",
    errorBase: "InvalidVolume",
    notFound: (ids: string[]) => `The volume '${ids.join(", ")}' does not exist.`,
  },
  snapshot: {
    prefix: "snap",
    errorBase: "InvalidSnapshot",
    notFound: (ids: string[]) => `The snapshot '${ids.join(", ")}' does not exist.`,
  },
  fleet: {
    prefix: "fleet",
    errorBase: "InvalidFleetId",
    notFound: (ids: string[]) => `The fleet ID '${ids.join(", ")}' does not exist`,
  },
} satisfies Record<string, IdKind>;

/** Throws `<Kind>.Malformed` unless `id` looks like an id of that kind. */
export function checkIdFormat(kind: IdKind, id: string): void {
  const pattern = kind.prefix === "sir"
    ? /^sir-[0-9a-z]{8}$/
    : kind.prefix === "fleet"
    ? /^fleet-[0-9a-f-]{36}$/
    : new RegExp(`^${kind.prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`);
  if (!pattern.test(id)) {
    throw new Ec2Error(kind.malformedCode ?? `${kind.errorBase}.Malformed`, `Invalid id: "${id}"`);
  }
}

/** The `<Kind>.NotFound` error for these ids. */
export function notFound(kind: IdKind, ids: string[]): Ec2Error {
  return new Ec2Error(`${kind.errorBase}.NotFound`, kind.notFound(ids));
}

/**
 * Resolves the requested ids (or, with none, every resource of the region)
 * against a map, applying visibility: an id that is unknown, in another
 * region or still invisible fails the whole call, as EC2 does.
 */
export function select<T extends { region: string }>(
  emu: Ec2Emulator,
  kind: IdKind,
  all: Map<string, T>,
  ids: string[],
  region: string,
): T[] {
  if (ids.length === 0) {
    return [...all.entries()].filter(([id, r]) => r.region === region && emu.visible(id))
      .map(([, r]) => r);
  }
  ids.forEach((id) => checkIdFormat(kind, id));
  const missing: string[] = [];
  const found: T[] = [];
  for (const id of new Set(ids)) {
    const r = all.get(id);
    if (!r || r.region !== region || !emu.visible(id)) missing.push(id);
    else found.push(r);
  }
  if (missing.length > 0) throw notFound(kind, missing);
  return found;
}

/** One resource by id, with the same rules as `select`. */
export function one<T extends { region: string }>(
  emu: Ec2Emulator,
  kind: IdKind,
  all: Map<string, T>,
  id: string,
  region: string,
): T {
  return select(emu, kind, all, [id], region)[0];
}
