/**
 * The `amazon-ami` data source: DescribeImages with `filters` and `owners`,
 * exactly one image (or the newest, with `most_recent`), output as Packer's
 * id, name, creation_date, owner, owner_name and tags. Access options are
 * the amazon builder's; `region` may come from the environment or the shared
 * config, as the AWS SDK finds it.
 */
import { awsAccessSchema } from "../builders/common/aws_access_config.ts";
import { accessConfig, createEc2Client, observeRetries } from "../steps/aws/client.ts";
import { AmiSelectionError, findImage } from "../steps/aws/find_image.ts";
import { regionOf } from "../steps/aws/region.ts";
import { composeSchema, type ConfigSchema } from "../template/schema.ts";
import { ec2Filters } from "./ami_filters.ts";
import type { DataSourcePlugin } from "./datasource.ts";

/** DescribeImages attempts: Packer's AMI lookup retries it up to 10 times. */
const DESCRIBE_ATTEMPTS = 11;

const amiFilter: ConfigSchema = {
  fields: {
    // Not required here: unset, it is AWS_REGION, AWS_DEFAULT_REGION or the profile's region.
    region: { type: "string", doc: "AWS region; default from the environment or shared config." },
    filters: {
      type: "string_map",
      doc: "DescribeImages filters; a value is a comma-separated list of alternatives.",
    },
    owners: { type: "string_list", doc: 'Account ids, "self" or aliases; required.' },
    most_recent: { type: "bool", doc: "Pick the newest image when several match." },
    include_deprecated: { type: "bool", doc: "Include deprecated images." },
  },
  check(config, report) {
    const filters = (config.filters as Record<string, string> | undefined) ?? {};
    const owners = (config.owners as string[] | undefined) ?? [];
    if (owners.length === 0 && Object.keys(filters).length === 0) {
      report("filters", "The `filters` must be specified");
    }
    if (owners.length === 0) report("owners", "For security reasons, you must declare an owner.");
    try {
      ec2Filters(filters);
    } catch (err) {
      report("filters", (err as Error).message);
    }
    if (Boolean(config.access_key) !== Boolean(config.secret_key)) {
      report("access_key", "`access_key` and `secret_key` must both be either set or not set.");
    }
  },
};

/** The SDK's words for an error, made into one a template author can act on. */
function queryError(err: unknown): Error {
  const e = err as { name?: string; message?: string };
  const message = e?.message ?? String(err);
  if (/region is missing/i.test(message)) {
    return new Error(
      'No AWS region: set "region" in the data source, AWS_REGION or AWS_DEFAULT_REGION, or a ' +
        "region for the profile in the shared config file (~/.aws/config)",
    );
  }
  if (e?.name === "CredentialsProviderError") {
    return new Error(
      "No valid AWS credentials found: set access_key and secret_key, a profile, or " +
        `credentials in the environment (${message})`,
    );
  }
  return new Error(`Error querying AMI: ${message}`);
}

/** The `amazon-ami` data source. */
export const amazonAmiDataSource: DataSourcePlugin = {
  type: "amazon-ami",
  schema: composeSchema(awsAccessSchema, amiFilter),
  outputs: {
    id: "The ID of the AMI.",
    name: "The name of the AMI.",
    creation_date: "The date of creation of the AMI.",
    owner: "The AWS account ID of the owner.",
    owner_name: "The owner alias.",
    tags: "The key/value combination of the tags assigned to the AMI.",
  },
  async execute(config, ctx) {
    const filters = ec2Filters((config.filters as Record<string, string> | undefined) ?? {});
    const client = await createEc2Client(accessConfig(config, regionOf(config)), {
      maxAttempts: DESCRIBE_ATTEMPTS,
    });
    observeRetries(client, () => ({ config, ui: { message: ctx.log } }));
    try {
      const image = await findImage(client, {
        filters,
        owners: config.owners as string[] | undefined,
        mostRecent: Boolean(config.most_recent),
        includeDeprecated: Boolean(config.include_deprecated),
      }, ctx.signal).catch((err) => {
        throw err instanceof AmiSelectionError || ctx.signal?.aborted ? err : queryError(err);
      });
      const tags = (image.Tags ?? [])
        .map((t) => [t.Key ?? "", t.Value ?? ""] as const)
        .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
      return {
        id: image.ImageId ?? "",
        name: image.Name ?? "",
        creation_date: image.CreationDate ?? "",
        owner: image.OwnerId ?? "",
        owner_name: image.ImageOwnerAlias ?? "",
        tags: Object.fromEntries(tags),
      };
    } finally {
      client.destroy();
    }
  },
};
