/**
 * The amazon-ebs builder: launches an instance from an EBS-backed source
 * AMI, provisions it, stops it and snapshots its volumes into a new AMI
 * (CreateImage), then copies, shares, tags and deprecates it. The launch,
 * connect and AMI-finishing steps are amazon-instance's own (steps/aws/);
 * only stopping and CreateImage are EBS's. Every cloud resource goes through
 * the ledger; the AMI's snapshots go with the AMI.
 */
import type { BuilderPlugin } from "./builder.ts";
import { amazonEbsSchema } from "./amazon_ebs_config.ts";
import { isSpotInstance } from "./amazon_instance_config.ts";
import { connectStep } from "../steps/common/connect.ts";
import { provisionStep } from "../steps/common/provision.ts";
import { preValidateStep } from "../steps/aws/pre_validate.ts";
import { sourceAmiStep } from "../steps/aws/source_ami.ts";
import { networkInfoStep } from "../steps/aws/network_info.ts";
import { keyPairHandler, keyPairStep } from "../steps/aws/key_pair.ts";
import { securityGroupHandler, securityGroupStep } from "../steps/aws/security_group.ts";
import { instanceHandler, runInstanceStep } from "../steps/aws/run_instance.ts";
import {
  IAM_KINDS,
  iamInstanceProfileStep,
  iamProfileHandler,
  iamProfileRoleHandler,
  iamRoleHandler,
  iamRolePolicyHandler,
  needsIamStep,
} from "../steps/aws/iam_instance_profile.ts";
import {
  LAUNCH_TEMPLATE_KIND,
  launchTemplateHandler,
  runSpotInstanceStep,
  SPOT_REQUEST_KIND,
  spotRequestHandler,
} from "../steps/aws/run_spot_instance.ts";
import { ssmTunnelStep } from "../steps/aws/ssm_tunnel.ts";
import { awsConnectOptions } from "../steps/aws/connect_options.ts";
import { cleanupTempKeysStep } from "../steps/aws/cleanup_temp_keys.ts";
import { stopInstanceStep } from "../steps/aws/stop_instance.ts";
import { modifyInstanceStep } from "../steps/aws/modify_instance.ts";
import { deregisterAmiStep } from "../steps/aws/deregister_ami.ts";
import { createAmiStep } from "../steps/aws/create_ami.ts";
import { amiHandler, type AmiOutput } from "../steps/aws/register_ami.ts";
import { regionCopyStep } from "../steps/aws/region_copy.ts";
import { modifyAttributesStep } from "../steps/aws/modify_attributes.ts";
import { createTagsStep } from "../steps/aws/create_tags.ts";
import { snapshotAttributesStep } from "../steps/aws/snapshot_attributes.ts";
import { deprecateAmiStep } from "../steps/aws/deprecate_ami.ts";

/** Packer's artifact id for this builder. */
export const AMAZON_EBS_BUILDER_ID = "mitchellh.amazonebs";

/** The amazon-ebs builder. */
export const amazonEbsBuilder: BuilderPlugin = {
  type: "amazon-ebs",
  schema: amazonEbsSchema,
  steps: (config) => [
    preValidateStep(),
    sourceAmiStep("ebs"),
    networkInfoStep(),
    keyPairStep(),
    securityGroupStep(),
    ...(needsIamStep(config) ? [iamInstanceProfileStep()] : []),
    isSpotInstance(config) ? runSpotInstanceStep() : runInstanceStep(),
    ...(config.ssh_interface === "session_manager" ? [ssmTunnelStep()] : []),
    connectStep(awsConnectOptions),
    provisionStep(),
    cleanupTempKeysStep(),
    // skip_create_ami: the build ends after provisioning, with no AMI and no artifact.
    ...(config.skip_create_ami ? [] : [
      // A one-time spot instance cannot be stopped: as Packer, its image is
      // made from the running instance, and ENA/SR-IOV (stopped only) are skipped.
      ...(isSpotInstance(config) ? [] : [
        stopInstanceStep(),
        ...(config.ena_support === true || config.sriov_support === true
          ? [modifyInstanceStep()]
          : []),
      ]),
      deregisterAmiStep(),
      createAmiStep(),
      regionCopyStep(),
      modifyAttributesStep(),
      createTagsStep(),
      snapshotAttributesStep(),
      deprecateAmiStep(),
    ]),
  ],
  artifact(state) {
    const copied = state["aws.region_copy"] as AmiOutput | undefined;
    if (!copied) return undefined;
    const entries = Object.entries(copied.amis).sort(([a], [b]) => a.localeCompare(b));
    return {
      builderId: AMAZON_EBS_BUILDER_ID,
      id: entries.map(([region, ami]) => `${region}:${ami}`).join(","),
      files: [],
      description: "AMIs were created:\n" +
        entries.map(([region, ami]) => `${region}: ${ami}`).join("\n"),
      state: { amis: copied.amis },
    };
  },
  resources: {
    "aws.key_pair": keyPairHandler,
    "aws.security_group": securityGroupHandler,
    "aws.instance": instanceHandler,
    [LAUNCH_TEMPLATE_KIND]: launchTemplateHandler,
    [SPOT_REQUEST_KIND]: spotRequestHandler,
    [IAM_KINDS.role]: iamRoleHandler,
    [IAM_KINDS.policy]: iamRolePolicyHandler,
    [IAM_KINDS.profile]: iamProfileHandler,
    [IAM_KINDS.attachment]: iamProfileRoleHandler,
    "aws.ami": amiHandler,
  },
};
