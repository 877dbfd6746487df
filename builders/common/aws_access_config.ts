/**
 * The AWS access options every amazon component shares (Packer's
 * AccessConfig): credentials, region, endpoint, TLS and retry settings.
 * One declaration, so the amazon-instance builder and the amazon-ami data
 * source accept the same keys with the same types and checks.
 */
import type { ConfigSchema, FieldSpec } from "../../template/schema.ts";

const str: FieldSpec = { type: "string" };
const bool: FieldSpec = { type: "bool" };
const int: FieldSpec = { type: "int" };
const list: FieldSpec = { type: "string_list" };
const map: FieldSpec = { type: "string_map" };

/**
 * The access options. `region` may be left out: then it is AWS_REGION,
 * AWS_DEFAULT_REGION or the profile's region in the shared config, as the
 * SDK and Packer find it (steps/aws/region.ts).
 */
export const awsAccessSchema: ConfigSchema = {
  check(config, report) {
    if (config.vault_aws_engine && (config.access_key || config.secret_key)) {
      report(
        "vault_aws_engine",
        "If you have set vault_aws_engine, you must not set the access_key or secret_key.",
      );
    }
  },
  fields: {
    access_key: { type: "string", sensitive: true },
    secret_key: { type: "string", sensitive: true },
    token: { type: "string", sensitive: true },
    region: { type: "string", doc: "AWS region; default from the environment or shared config." },
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
    // Valid, but kiln has no Vault client: the build fails when it first needs credentials.
    vault_aws_engine: {
      type: "object",
      item: { fields: { name: str, engine_name: str, role_arn: str, ttl: str } },
    },
    aws_polling: {
      type: "object",
      item: { fields: { max_attempts: int, delay_seconds: int } },
    },
  },
};
