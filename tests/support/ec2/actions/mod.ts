/** The EC2 actions the emulator implements, by `Action` name. */
import { createFleet, deleteFleets, describeFleets } from "./fleets.ts";
import {
  createLaunchTemplate,
  deleteLaunchTemplate,
  describeLaunchTemplates,
} from "./launch_templates.ts";
import {
  copyImage,
  deregisterImage,
  describeImageAttribute,
  describeImages,
  modifyImageAttribute,
  registerImage,
} from "./images.ts";
import {
  describeInstanceAttribute,
  describeInstances,
  describeInstanceStatus,
  getPasswordData,
  runInstances,
  terminateInstances,
} from "./instances.ts";
import { createKeyPair, deleteKeyPair, describeKeyPairs, importKeyPair } from "./key_pairs.ts";
import {
  describeAvailabilityZones,
  describeRegions,
  describeSubnets,
  describeVpcs,
} from "./network.ts";
import {
  authorizeSecurityGroupIngress,
  createSecurityGroup,
  deleteSecurityGroup,
  describeSecurityGroups,
} from "./security_groups.ts";
import {
  cancelSpotInstanceRequests,
  describeSpotInstanceRequests,
  requestSpotInstances,
} from "./spot.ts";
import { createTags, deleteTags, describeTags } from "./tags.ts";
import {
  createImage,
  deleteSnapshot,
  deleteVolume,
  describeSnapshotAttribute,
  describeSnapshots,
  describeVolumes,
  enableImageDeprecation,
  modifyInstanceAttribute,
  modifySnapshotAttribute,
  stopInstances,
} from "./ebs.ts";
import type { ActionHandler } from "./types.ts";

/** Action name → handler. */
export const ACTIONS: Record<string, ActionHandler> = {
  StopInstances: stopInstances,
  ModifySnapshotAttribute: modifySnapshotAttribute,
  ModifyInstanceAttribute: modifyInstanceAttribute,
  EnableImageDeprecation: enableImageDeprecation,
  DescribeVolumes: describeVolumes,
  DescribeSnapshots: describeSnapshots,
  DescribeSnapshotAttribute: describeSnapshotAttribute,
  DeleteVolume: deleteVolume,
  DeleteSnapshot: deleteSnapshot,
  CreateImage: createImage,
  AuthorizeSecurityGroupIngress: authorizeSecurityGroupIngress,
  CancelSpotInstanceRequests: cancelSpotInstanceRequests,
  CopyImage: copyImage,
  CreateFleet: createFleet,
  CreateKeyPair: createKeyPair,
  CreateLaunchTemplate: createLaunchTemplate,
  CreateSecurityGroup: createSecurityGroup,
  CreateTags: createTags,
  DeleteFleets: deleteFleets,
  DeleteKeyPair: deleteKeyPair,
  DeleteLaunchTemplate: deleteLaunchTemplate,
  DeleteSecurityGroup: deleteSecurityGroup,
  DeleteTags: deleteTags,
  DeregisterImage: deregisterImage,
  DescribeAvailabilityZones: describeAvailabilityZones,
  DescribeFleets: describeFleets,
  DescribeImageAttribute: describeImageAttribute,
  DescribeImages: describeImages,
  DescribeInstanceAttribute: describeInstanceAttribute,
  DescribeInstanceStatus: describeInstanceStatus,
  DescribeInstances: describeInstances,
  DescribeKeyPairs: describeKeyPairs,
  DescribeLaunchTemplates: describeLaunchTemplates,
  DescribeRegions: describeRegions,
  DescribeSecurityGroups: describeSecurityGroups,
  DescribeSpotInstanceRequests: describeSpotInstanceRequests,
  DescribeSubnets: describeSubnets,
  DescribeTags: describeTags,
  DescribeVpcs: describeVpcs,
  GetPasswordData: getPasswordData,
  ImportKeyPair: importKeyPair,
  ModifyImageAttribute: modifyImageAttribute,
  RegisterImage: registerImage,
  RequestSpotInstances: requestSpotInstances,
  RunInstances: runInstances,
  TerminateInstances: terminateInstances,
};
