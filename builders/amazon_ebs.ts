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
import { amiArtifact, launchAndProvisionSteps, launchResources } from "./amazon_launch.ts";
import { stopInstanceStep } from "../steps/aws/stop_instance.ts";
import { modifyInstanceStep } from "../steps/aws/modify_instance.ts";
import { deregisterAmiStep } from "../steps/aws/deregister_ami.ts";
import { createAmiStep } from "../steps/aws/create_ami.ts";
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
    ...launchAndProvisionSteps(config, "ebs"),
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
  artifact: amiArtifact(AMAZON_EBS_BUILDER_ID),
  resources: launchResources,
};
