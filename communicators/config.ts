/**
 * Communicator options shared by every builder that connects (the
 * "communicator" block of a builder definition). Builders compose this into
 * their own schema with `composeSchema`.
 */
import type { ConfigSchema, FieldSpec } from "../template/schema.ts";

const common: Record<string, FieldSpec> = {
  communicator: { type: "string", enum: ["none", "ssh", "winrm"], doc: "none, ssh or winrm" },
  pause_before_connecting: { type: "duration", default: 0 },
};

const ssh: Record<string, FieldSpec> = {
  ssh_host: { type: "string" },
  ssh_port: { type: "int", default: 22 },
  ssh_username: { type: "string" },
  ssh_password: { type: "string", sensitive: true },
  ssh_private_key_file: { type: "string" },
  ssh_timeout: { type: "duration", default: 5 * 60_000 },
};

/**
 * The communicator schema for a builder whose default communicator is
 * `defaultType` (Packer: "ssh" for most builders).
 */
export function communicatorSchema(defaultType: "ssh" | "none" = "ssh"): ConfigSchema {
  return {
    fields: {
      ...common,
      communicator: { ...common.communicator, default: defaultType },
      ...ssh,
    },
  };
}
