/**
 * The amazon-instance builder's options, every one of the reference's
 * access, AMI, run, block-device, polling and instance-store options, plus the
 * communicator block. Options whose value holds build template data
 * ({{.SourceAMI}}, ...) are `late`: the step that uses them renders them.
 */
import { communicatorSchema } from "../communicators/config.ts";
import { awsAccessSchema } from "./common/aws_access_config.ts";
import { checkKmsKeys } from "./common/kms_key.ts";
import { composeSchema, type ConfigSchema, type FieldSpec } from "../template/schema.ts";

const str: FieldSpec = { type: "string" };
const bool: FieldSpec = { type: "bool" };
const int: FieldSpec = { type: "int" };
const list: FieldSpec = { type: "string_list" };
const map: FieldSpec = { type: "string_map" };

/** `{ filters: {...}, ... }` blocks (source_ami_filter, subnet_filter, ...). */
function filterBlock(extra: Record<string, FieldSpec> = {}): FieldSpec {
  return { type: "object", item: { fields: { filters: map, ...extra } } };
}

/** `[{key, value}]` — the repeatable-block spelling of a tag map. */
const tagList: FieldSpec = {
  type: "list_of_objects",
  item: { fields: { key: { ...str, required: true }, value: { ...str, required: true } } },
};

/**
 * An IAM policy document as Packer 1.6.6 decodes it: Version and a list of
 * statements of Effect, Action and Resource (a string or a list each).
 */
const policyDocument: ConfigSchema = {
  fields: {
    Version: { type: "string", default: "2012-10-17" },
    Statement: {
      type: "list_of_objects",
      required: true,
      item: {
        fields: {
          Effect: { type: "string", required: true, enum: ["Allow", "Deny"] },
          Action: { type: "string_list", required: true },
          Resource: { type: "string_list", required: true },
        },
      },
    },
  },
};

const blockDevice: ConfigSchema = {
  fields: {
    delete_on_termination: bool,
    device_name: str,
    encrypted: bool,
    iops: int,
    no_device: bool,
    snapshot_id: str,
    throughput: int,
    virtual_name: str,
    volume_type: str,
    volume_size: int,
    kms_key_id: str,
  },
};

/** The AMI options every amazon builder shares (Packer's AMIConfig). */
export const amiSchema: ConfigSchema = {
  fields: {
    ami_name: { type: "string", required: true },
    ami_description: { type: "string", late: true },
    ami_virtualization_type: { type: "string", enum: ["paravirtual", "hvm"] },
    ami_users: list,
    ami_groups: list,
    ami_org_arns: list,
    ami_ou_arns: list,
    ami_product_codes: list,
    ami_regions: list,
    tags: { type: "string_map", late: true },
    tag: tagList,
    ena_support: bool,
    sriov_support: bool,
    force_deregister: bool,
    force_delete_snapshot: bool,
    encrypt_boot: bool,
    kms_key_id: str,
    region_kms_key_ids: map,
    skip_save_build_region: bool,
    imds_support: { type: "string", enum: ["", "v2.0"] },
  },
  check: checkKmsKeys,
  // Renamed or dropped options `packer fix` rewrites: Packer 1.6.6 refuses them by name.
  deprecated: [
    "enhanced_networking",
    "ssh_private_ip",
    "shutdown_behaviour",
    "temporary_security_group_source_cidr",
  ],
};

/** The launch options every amazon builder shares (Packer's RunConfig and block devices). */
export const runSchema: ConfigSchema = {
  fields: {
    instance_type: str,
    source_ami: str,
    source_ami_filter: filterBlock({ owners: list, most_recent: bool }),
    associate_public_ip_address: bool,
    availability_zone: str,
    block_duration_minutes: int,
    capacity_reservation_preference: { type: "string", enum: ["", "open", "none"] },
    capacity_reservation_id: str,
    capacity_reservation_group_arn: str,
    disable_stop_instance: bool,
    ebs_optimized: bool,
    enable_nitro_enclave: bool,
    enable_t2_unlimited: bool,
    enable_unlimited_credits: bool,
    iam_instance_profile: str,
    fleet_tags: map,
    fleet_tag: tagList,
    skip_profile_validation: bool,
    temporary_iam_instance_profile_policy_document: { type: "object", item: policyDocument },
    shutdown_behavior: { type: "string", enum: ["stop", "terminate"], default: "stop" },
    security_group_filter: filterBlock(),
    run_tags: { type: "string_map", late: true },
    run_tag: tagList,
    security_group_id: str,
    security_group_ids: list,
    spot_instance_types: list,
    spot_price: str,
    spot_tags: { type: "string_map", late: true },
    spot_tag: tagList,
    subnet_filter: filterBlock({ most_free: bool, random: bool }),
    subnet_id: str,
    license_specifications: {
      type: "list_of_objects",
      item: { fields: { license_configuration_request: { type: "any" } } },
    },
    placement: {
      type: "object",
      item: { fields: { host_resource_group_arn: str, tenancy: str } },
    },
    tenancy: { type: "string", enum: ["", "default", "dedicated", "host"] },
    temporary_security_group_source_cidrs: list,
    temporary_security_group_source_public_ip: bool,
    user_data: str,
    user_data_file: str,
    vpc_filter: filterBlock(),
    vpc_id: str,
    windows_password_timeout: { type: "duration", default: 20 * 60_000 },
    metadata_options: {
      type: "object",
      item: {
        fields: {
          http_endpoint: { type: "string", enum: ["", "enabled", "disabled"] },
          http_tokens: { type: "string", enum: ["", "optional", "required"] },
          http_put_response_hop_limit: int,
          instance_metadata_tags: { type: "string", enum: ["", "enabled", "disabled"] },
        },
      },
    },
    ssh_interface: {
      type: "string",
      enum: ["", "public_ip", "private_ip", "public_dns", "private_dns", "session_manager"],
    },
    pause_before_ssm: { type: "duration", default: 10_000 },
    session_manager_port: int,
    ami_block_device_mappings: { type: "list_of_objects", item: blockDevice },
    launch_block_device_mappings: { type: "list_of_objects", item: blockDevice },
  },
  exclusive: [["source_ami", "source_ami_filter"], ["security_group_id", "security_group_ids"]],
  anyOf: [["source_ami", "source_ami_filter"]],
  check(config, report) {
    checkSpot(config, report);
    if (
      config.ssh_interface === "session_manager" && !config.iam_instance_profile &&
      !config.temporary_iam_instance_profile_policy_document
    ) {
      report(
        "ssh_interface",
        "no iam_instance_profile defined; session_manager connectivity requires a valid " +
          "instance profile with AmazonSSMManagedInstanceCore permissions. Alternatively a " +
          "temporary_iam_instance_profile_policy_document can be used.",
      );
    }

    if (config.user_data && config.user_data_file) {
      report("user_data", "only one of user_data or user_data_file can be specified");
    }
    const name = String(config.ami_name ?? "");
    if (name && (name.length < 3 || name.length > 128)) {
      report("ami_name", "AMI names must be between 3 and 128 characters long");
    } else if (name && !/^[A-Za-z0-9()[\] ./'@_-]+$/.test(name) && !name.includes("{{")) {
      report(
        "ami_name",
        "AMI names may only contain letters, numbers, spaces and ( ) [ ] . / - ' @ _",
      );
    }
  },
};

/** Packer's spot checks, plus a price that EC2 would refuse named before anything is created. */
function checkSpot(
  config: Record<string, unknown>,
  report: (key: string, message: string) => void,
) {
  const types = (config.spot_instance_types as string[] | undefined) ?? [];
  if (config.instance_type && types.length > 0) {
    report(
      "spot_instance_types",
      "either instance_type or spot_instance_types must be specified, not both",
    );
  } else if (!config.instance_type && types.length === 0) {
    report("instance_type", "either instance_type or spot_instance_types must be specified");
  }
  const price = String(config.spot_price ?? "");
  const spot = isSpotInstance(config);
  if (spot && price !== "auto" && !/^(\d+(?:\.\d*)?|\.\d+)$/.test(price)) {
    report(
      "spot_price",
      `expected "auto" or a maximum price in USD per hour such as "0.05", got ${
        JSON.stringify(price)
      }`,
    );
  }
  if (types.length > 0 && !spot) {
    report("spot_instance_types", 'spot_instance_types needs spot_price (a price or "auto")');
  }
  const spotTags = Object.keys((config.spot_tags as object | undefined) ?? {}).length +
    ((config.spot_tag as unknown[] | undefined)?.length ?? 0);
  if (spotTags > 0 && !spot) {
    report("spot_tags", "spot_tags should not be set when not requesting a spot instance");
  }
  const duration = Number(config.block_duration_minutes ?? 0);
  if (duration % 60 !== 0) {
    report("block_duration_minutes", "block_duration_minutes must be multiple of 60");
  }
  if (spot && config.enable_t2_unlimited) {
    report(
      "enable_t2_unlimited",
      "Error: T2 Unlimited cannot be used in conjunction with Spot Instances",
    );
  }
  if (spot && config.enable_unlimited_credits && String(config.instance_type).startsWith("t2.")) {
    report(
      "enable_unlimited_credits",
      "Error: Unlimited credits cannot be used in conjunction with Spot Instances for T2 instances",
    );
  }
}

/** A spot build: spot_price set and not "0" (Packer's IsSpotInstance). */
export function isSpotInstance(config: Record<string, unknown>): boolean {
  const price = String(config.spot_price ?? "");
  return price !== "" && price !== "0";
}

const instanceStore: ConfigSchema = {
  fields: {
    account_id: { type: "string", required: true },
    s3_bucket: { type: "string", required: true },
    x509_cert_path: { type: "string", required: true },
    x509_key_path: { type: "string", required: true },
    x509_upload_path: { type: "string", default: "/tmp" },
    bundle_destination: { type: "string", default: "/tmp" },
    bundle_prefix: { type: "string", default: "image-{{timestamp}}", late: true },
    bundle_upload_command: { type: "string", late: true },
    bundle_vol_command: { type: "string", late: true },
    tpm_support: { type: "string", enum: ["", "v2.0"] },
  },
  check(config, report) {
    for (const key of ["x509_cert_path", "x509_key_path"]) {
      const path = config[key];
      if (typeof path !== "string" || path === "") continue;
      try {
        Deno.statSync(path);
      } catch {
        report(key, `${key} points to ${path}, which can't be read`);
      }
    }
  },
};

/** The amazon-instance builder's complete schema. */
export const amazonInstanceSchema: ConfigSchema = composeSchema(
  awsAccessSchema,
  amiSchema,
  runSchema,
  instanceStore,
  communicatorSchema("ssh"),
);
