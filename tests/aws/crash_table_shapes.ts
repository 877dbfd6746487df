/**
 * The build shapes the kill -9 table runs: what differs between an on-demand
 * build, a spot build (launch template + instant fleet), an on-demand
 * build with a temporary IAM instance profile, and an amazon-ebs build
 * (stop, CreateImage, encrypted copy) — the builder options, and the
 * API calls a kill can fall in the middle of (after the call took effect,
 * before its `ResourceCreated`), each with the fault that puts it there.
 */
import type { FaultOptions, Ledger } from "../support/ec2/mod.ts";

/** Which kind of build the table kills. */
export type BuildShape = "on-demand" | "spot" | "iam-profile" | "ebs";

/** Every shape, in the order the table reports them. */
export const BUILD_SHAPES: readonly BuildShape[] = ["on-demand", "spot", "iam-profile", "ebs"];

/** A create call a kill can interrupt between its effect and its record. */
export type MidCall =
  | "RunInstances"
  | "CreateLaunchTemplate"
  | "CreateFleet"
  | "CreateRole"
  | "CreateInstanceProfile"
  | "CreateImage";

/** How a mid-call kill is recognised. */
export interface MidCallSpec {
  /** The ledger kind the call's `ResourceCreated` would have recorded. */
  kind: string;
  /** How many resources of the call's kind the emulator holds. */
  count(ledger: Ledger): number;
}

/** Every mid-call kill point, by call. */
export const MID_CALLS: Record<MidCall, MidCallSpec> = {
  RunInstances: { kind: "aws.instance", count: (l) => l.instances.length },
  CreateLaunchTemplate: { kind: "aws.launch_template", count: (l) => l.launchTemplates.length },
  CreateFleet: { kind: "aws.instance", count: (l) => l.instances.length },
  CreateRole: { kind: "aws.iam_role", count: (l) => l.iamRoles.length },
  CreateInstanceProfile: {
    kind: "aws.iam_instance_profile",
    count: (l) => l.instanceProfiles.length,
  },
  CreateImage: { kind: "aws.ami", count: (l) => l.images.length },
};

/**
 * The fault that puts a kill in the middle of `call`: its answer is lost (it
 * took effect; the client sees a 500) and the cloud ignores ClientToken, so
 * only tags and names can find the resource. kiln logs `AwsRetry` before
 * calling again, and the table kills it right there.
 */
export function midCallFaults(call: MidCall): FaultOptions {
  return { ignoreClientToken: true, lostResponses: [{ action: call, nth: 1 }] };
}

/** The policy of the temporary instance profile. */
const POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: "*" }],
};

/** What one shape changes in the table's build. */
export interface ShapeSpec {
  /** Builder options merged into the table's template. */
  builder: Record<string, unknown>;
  /** The calls this shape adds that a kill can interrupt mid-way. */
  midCalls: MidCall[];
  /** The builder type (default amazon-instance). */
  type?: "amazon-ebs";
}

/** The shapes. */
export const SHAPES: Record<BuildShape, ShapeSpec> = {
  "on-demand": { builder: {}, midCalls: ["RunInstances"] },
  spot: {
    builder: {
      spot_price: "0.05",
      spot_tags: { Purpose: "spot-{{.SourceAMIName}}" },
    },
    midCalls: ["CreateLaunchTemplate", "CreateFleet"],
  },
  "iam-profile": {
    builder: { temporary_iam_instance_profile_policy_document: POLICY },
    midCalls: ["CreateRole", "CreateInstanceProfile", "RunInstances"],
  },
  // encrypt_boot: CreateImage under a temporary name, an encrypted copy, and
  // the unencrypted original deleted with its snapshot — three more places
  // for a kill to leave an AMI or a snapshot behind.
  ebs: {
    type: "amazon-ebs",
    builder: { encrypt_boot: true, snapshot_tags: { Snap: "{{.SourceAMIName}}" } },
    midCalls: ["RunInstances", "CreateImage"],
  },
};

/** Ledger kinds that only a spot or IAM build creates: where the CI subset resumes. */
export const SHAPE_KINDS: Record<BuildShape, RegExp> = {
  "on-demand": /^aws\./,
  spot: /^aws\.(launch_template|spot_request|instance)$/,
  "iam-profile": /^aws\.iam_/,
  ebs: /^aws\.ami$/,
};
