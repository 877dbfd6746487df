/**
 * The amazon-ebs builder's options: the access, AMI and run options it
 * shares with amazon-instance, plus the EBS ones (volume and snapshot tags,
 * snapshot sharing, deprecate_at, skip_create_ami, no_ephemeral) and
 * Packer's block device checks (the KMS ones are the AMI options', shared).
 */
import { communicatorSchema } from "../communicators/config.ts";
import { awsAccessSchema } from "./common/aws_access_config.ts";
import { amiSchema, runSchema } from "./amazon_instance_config.ts";
import { composeSchema, type ConfigSchema, type FieldSpec } from "../template/schema.ts";

const list: FieldSpec = { type: "string_list" };
const tagList: FieldSpec = {
  type: "list_of_objects",
  item: {
    fields: {
      key: { type: "string", required: true },
      value: { type: "string", required: true },
    },
  },
};

const ebs: ConfigSchema = {
  fields: {
    run_volume_tags: { type: "string_map", late: true },
    run_volume_tag: tagList,
    snapshot_tags: { type: "string_map", late: true },
    snapshot_tag: tagList,
    snapshot_users: list,
    snapshot_groups: list,
    deprecate_at: { type: "string" },
    skip_create_ami: { type: "bool" },
    no_ephemeral: { type: "bool" },
  },
  check(config, report) {
    const at = String(config.deprecate_at ?? "");
    if (at && !/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(at)) {
      report(
        "deprecate_at",
        `expected an RFC 3339 time such as "2030-01-31T00:00:00Z", got ${JSON.stringify(at)}`,
      );
    }
    // Values of the wrong type are the type check's to report; only objects are looked into.
    const mappings = (key: string) => {
      const list = config[key];
      return (Array.isArray(list) ? list : []).flatMap((d, i) =>
        d !== null && typeof d === "object" && !Array.isArray(d)
          ? [[`${key}[${i}]`, d as Record<string, unknown>] as const]
          : []
      );
    };
    const devices = [
      ...mappings("launch_block_device_mappings"),
      ...mappings("ami_block_device_mappings"),
    ];
    for (const [path, device] of devices) {
      if (!device.device_name) {
        report(`${path}.device_name`, "The `device_name` must be specified for every device.");
      }
      const type = String(device.volume_type ?? "");
      if (device.iops && !["io1", "io2", "gp3", ""].includes(type)) {
        report(`${path}.iops`, `iops only applies to io1, io2 and gp3 volumes, not ${type}`);
      }
    }
  },
};

/** The amazon-ebs builder's complete schema. */
export const amazonEbsSchema: ConfigSchema = composeSchema(
  awsAccessSchema,
  amiSchema,
  runSchema,
  ebs,
  communicatorSchema("ssh"),
);
