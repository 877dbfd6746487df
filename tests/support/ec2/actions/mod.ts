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
  AuthorizeSecurityGroupIngress: authorizeSecurityGroupIngress,
  CancelSpotInstanceRequests: cancelSpotInstanceRequests,
  CopyImage: copyImage,
  CreateFleet: createFleet,
  CreateImage: createImage,
  CreateKeyPair: createKeyPair,
  CreateLaunchTemplate: createLaunchTemplate,
  CreateSecurityGroup: createSecurityGroup,
  CreateTags: createTags,
  DeleteFleets: deleteFleets,
  DeleteKeyPair: deleteKeyPair,
  DeleteLaunchTemplate: deleteLaunchTemplate,
  DeleteSecurityGroup: deleteSecurityGroup,
  DeleteSnapshot: deleteSnapshot,
  DeleteTags: deleteTags,
  DeleteVolume: deleteVolume,
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
  DescribeSnapshotAttribute: describeSnapshotAttribute,
  DescribeSnapshots: describeSnapshots,
  DescribeSpotInstanceRequests: describeSpotInstanceRequests,
  DescribeSubnets: describeSubnets,
  DescribeTags: describeTags,
  DescribeVolumes: describeVolumes,
  DescribeVpcs: describeVpcs,
  EnableImageDeprecation: enableImageDeprecation,
  GetPasswordData: getPasswordData,
  ImportKeyPair: importKeyPair,
  ModifyImageAttribute: modifyImageAttribute,
  ModifyInstanceAttribute: modifyInstanceAttribute,
  ModifySnapshotAttribute: modifySnapshotAttribute,
  RegisterImage: registerImage,
  RequestSpotInstances: requestSpotInstances,
  RunInstances: runInstances,
  StopInstances: stopInstances,
  TerminateInstances: terminateInstances,
};
