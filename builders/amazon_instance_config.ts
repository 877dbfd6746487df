/**
 * The amazon-instance builder's options, every one of the reference's
 * access, AMI, run, block-device, polling and instance-store options, plus the
 * communicator block. Options whose value holds build template data
 * ({{.SourceAMI}}, ...) are `late`: the step that uses them renders them.
 */
import { communicatorSchema } from "../communicators/config.ts";
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

const access: ConfigSchema = {
  fields: {
    access_key: { type: "string", sensitive: true },
    secret_key: { type: "string", sensitive: true },
    token: { type: "string", sensitive: true },
    region: { type: "string", required: true },
    profile: str,
    shared_credentials_file: str,
    assume_role: {
      type: "object",
      item: {
        fields: {
          role_arn: str,
          duration_seconds: int,
          external_id: str,
          policy: str,
          policy_arns: list,
          session_name: str,
          tags: map,
          transitive_tag_keys: list,
        },
      },
    },
    custom_endpoint_ec2: str,
    decode_authorization_messages: bool,
    insecure_skip_tls_verify: bool,
    max_retries: int,
    mfa_code: { type: "string", sensitive: true },
    skip_metadata_api_check: bool,
    skip_credential_validation: bool,
    skip_region_validation: bool,
    vault_aws_engine: {
      type: "object",
      item: { fields: { name: str, engine_name: str, role_arn: str, ttl: str } },
      unsupported: "vault_aws_engine needs a Vault server, which kiln does not support yet",
    },
    aws_polling: {
      type: "object",
      item: { fields: { max_attempts: int, delay_seconds: int } },
    },
  },
};

const ami: ConfigSchema = {
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
};

const run: ConfigSchema = {
  fields: {
    instance_type: { type: "string", required: true },
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
    temporary_iam_instance_profile_policy_document: {
      type: "any",
      unsupported: "temporary_iam_instance_profile_policy_document needs IAM, " +
        "which kiln does not support yet",
    },
    shutdown_behavior: { type: "string", enum: ["stop", "terminate"], default: "stop" },
    security_group_filter: filterBlock(),
    run_tags: { type: "string_map", late: true },
    run_tag: tagList,
    security_group_id: str,
    security_group_ids: list,
    spot_instance_types: list,
    spot_price: str,
    spot_tags: map,
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
    if (config.ssh_interface === "session_manager") {
      report(
        "ssh_interface",
        "session_manager needs the AWS Session Manager service, which kiln does not support yet",
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
    if (config.spot_price || (config.spot_instance_types as string[] | undefined)?.length) {
      report("spot_price", "spot instances are not supported by kiln yet; remove spot_price");
    }
  },
};

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
  access,
  ami,
  run,
  instanceStore,
  communicatorSchema("ssh"),
);
