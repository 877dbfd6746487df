/**
 * The amazon-instance builder: an instance-store AMI made by launching an
 * instance from an instance-store source AMI, provisioning it, bundling its
 * root volume on the instance, uploading the bundle to S3 and registering it.
 * Steps in Packer's order; every cloud resource goes through the ledger.
 */
import type { BuilderPlugin } from "./builder.ts";
import { amazonInstanceSchema, isSpotInstance } from "./amazon_instance_config.ts";
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
import { uploadX509Step } from "../steps/aws/upload_x509.ts";
import { bundleVolumeStep } from "../steps/aws/bundle_volume.ts";
import { uploadBundleStep } from "../steps/aws/upload_bundle.ts";
import { deregisterAmiStep } from "../steps/aws/deregister_ami.ts";
import { amiHandler, type AmiOutput, registerAmiStep } from "../steps/aws/register_ami.ts";
import { regionCopyStep } from "../steps/aws/region_copy.ts";
import { modifyAttributesStep } from "../steps/aws/modify_attributes.ts";
import { createTagsStep } from "../steps/aws/create_tags.ts";
import { S3_BUNDLE_KIND, s3BundleHandler } from "../steps/aws/s3_bundle.ts";

/** Packer's artifact id for this builder. */
export const AMAZON_INSTANCE_BUILDER_ID = "mitchellh.amazon.instance";

/** The amazon-instance builder. */
export const amazonInstanceBuilder: BuilderPlugin = {
  type: "amazon-instance",
  schema: { ...amazonInstanceSchema, pluginType: "mitchellh.amazon.instance" },
  steps: (config) => [
    preValidateStep(),
    sourceAmiStep(),
    networkInfoStep(),
    keyPairStep(),
    securityGroupStep(),
    // Steps Packer runs as no-ops are left out, so plain builds log only what they do.
    ...(needsIamStep(config) ? [iamInstanceProfileStep()] : []),
    isSpotInstance(config) ? runSpotInstanceStep() : runInstanceStep(),
    ...(config.ssh_interface === "session_manager" ? [ssmTunnelStep()] : []),
    connectStep(awsConnectOptions),
    provisionStep(),
    cleanupTempKeysStep(),
    uploadX509Step(),
    bundleVolumeStep(),
    uploadBundleStep(),
    deregisterAmiStep(),
    registerAmiStep(),
    regionCopyStep(),
    modifyAttributesStep(),
    createTagsStep(),
  ],
  artifact(state) {
    const copied = state["aws.region_copy"] as AmiOutput | undefined;
    if (!copied) return undefined;
    const entries = Object.entries(copied.amis).sort(([a], [b]) => a.localeCompare(b));
    return {
      builderId: AMAZON_INSTANCE_BUILDER_ID,
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
    [S3_BUNDLE_KIND]: s3BundleHandler,
  },
};
