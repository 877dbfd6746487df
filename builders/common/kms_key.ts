/**
 * Packer's KMS key checks for the AMI options (shared by the amazon
 * builders): a key id, an alias or a key/alias ARN; and kms_key_id /
 * region_kms_key_ids only with encrypt_boot, a key for every ami_regions
 * region once region_kms_key_ids is given.
 */
const KEY_ID = "[a-f0-9-]+$";
const ALIAS = "alias/[a-zA-Z0-9:/_-]+$";
const ARN_START = String.raw`^arn:aws(-us-gov)?:kms:([a-z]{2}-(gov-)?[a-z]+-\d{1})?:(\d{12}):`;
const PATTERNS = [`^${KEY_ID}`, `^${ALIAS}`, `${ARN_START}key/${KEY_ID}`, `${ARN_START}${ALIAS}`]
  .map((p) => new RegExp(p));

/** Whether `key` is a KMS key reference EC2 accepts. */
export function validKmsKey(key: string): boolean {
  return PATTERNS.some((p) => p.test(key));
}

/** The checks, as a schema `check`. */
export function checkKmsKeys(
  config: Record<string, unknown>,
  report: (key: string, message: string) => void,
): void {
  const kmsIds = (config.region_kms_key_ids as Record<string, string> | undefined) ?? {};
  const kmsKey = String(config.kms_key_id ?? "");
  if (Object.keys(kmsIds).length > 0) {
    for (const region of (config.ami_regions as string[] | undefined) ?? []) {
      if (!(region in kmsIds)) {
        report(
          "region_kms_key_ids",
          `Region ${region} is in ami_regions but not in region_kms_key_ids`,
        );
      }
    }
  }
  if ((kmsKey || Object.keys(kmsIds).length > 0) && config.encrypt_boot !== true) {
    report(
      kmsKey ? "kms_key_id" : "region_kms_key_ids",
      "If you have set either region_kms_key_ids or kms_key_id, encrypt_boot must also be true.",
    );
  }
  if (kmsKey && !validKmsKey(kmsKey)) {
    report("kms_key_id", `${JSON.stringify(kmsKey)} is not a valid KMS Key Id.`);
  }
  for (const [region, key] of Object.entries(kmsIds)) {
    if (!validKmsKey(key)) {
      report(`region_kms_key_ids.${region}`, `${JSON.stringify(key)} is not a valid KMS Key Id.`);
    }
  }
}
