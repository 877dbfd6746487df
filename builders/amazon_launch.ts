/**
 * What the amazon builders share: launching an instance from a source AMI
 * (key pair, security group, optional IAM profile, on-demand or spot),
 * connecting and provisioning it; the ledger handlers of everything those
 * steps and the AMI steps create; and the artifact of the AMIs a build
 * registered or copied. amazon-instance and amazon-ebs differ only in how
 * they turn the provisioned instance into an AMI.
 */
import type { BuilderPlugin } from "./builder.ts";
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
import { amiHandler, type AmiOutput } from "../steps/aws/register_ami.ts";

type Steps = ReturnType<BuilderPlugin["steps"]>;

/**
 * The steps from the source AMI to a provisioned instance whose temporary
 * keys are gone, in Packer's order. `rootDeviceType` is the source AMI's
 * root the builder requires.
 */
export function launchAndProvisionSteps(
  config: Record<string, unknown>,
  rootDeviceType: "instance-store" | "ebs",
): Steps {
  return [
    preValidateStep(),
    sourceAmiStep(rootDeviceType),
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
  ];
}

/** Ledger handlers of the launch's resources and of the AMI. */
export const launchResources: BuilderPlugin["resources"] = {
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
};

/** The artifact of the AMIs in every region (after region copies), as Packer describes it. */
export function amiArtifact(builderId: string): BuilderPlugin["artifact"] {
  return (state) => {
    const copied = state["aws.region_copy"] as AmiOutput | undefined;
    if (!copied) return undefined;
    const entries = Object.entries(copied.amis).sort(([a], [b]) => a.localeCompare(b));
    return {
      builderId,
      id: entries.map(([region, ami]) => `${region}:${ami}`).join(","),
      files: [],
      description: "AMIs were created:\n" +
        entries.map(([region, ami]) => `${region}: ${ami}`).join("\n"),
      state: { amis: copied.amis },
    };
  };
}
