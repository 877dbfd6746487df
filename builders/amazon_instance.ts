/**
 * The amazon-instance builder: an instance-store AMI made by launching an
 * instance from an instance-store source AMI, provisioning it, bundling its
 * root volume on the instance, uploading the bundle to S3 and registering it.
 * Steps in Packer's order; every cloud resource goes through the ledger.
 */
import type { BuilderPlugin } from "./builder.ts";
import { amazonInstanceSchema } from "./amazon_instance_config.ts";
import { amiArtifact, launchAndProvisionSteps, launchResources } from "./amazon_launch.ts";
import { uploadX509Step } from "../steps/aws/upload_x509.ts";
import { bundleVolumeStep } from "../steps/aws/bundle_volume.ts";
import { uploadBundleStep } from "../steps/aws/upload_bundle.ts";
import { deregisterAmiStep } from "../steps/aws/deregister_ami.ts";
import { registerAmiStep } from "../steps/aws/register_ami.ts";
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
    ...launchAndProvisionSteps(config, "instance-store"),
    uploadX509Step(),
    bundleVolumeStep(),
    uploadBundleStep(),
    deregisterAmiStep(),
    registerAmiStep(),
    regionCopyStep(),
    modifyAttributesStep(),
    createTagsStep(),
  ],
  artifact: amiArtifact(AMAZON_INSTANCE_BUILDER_ID),
  resources: { ...launchResources, [S3_BUNDLE_KIND]: s3BundleHandler },
};
