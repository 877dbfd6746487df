/** Packer's shutdown options: the command that powers the guest off, and how long to wait. */
import type { ConfigSchema } from "../../template/schema.ts";

/** Packer's shutdown_timeout when none (or 0) is given. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5 * 60_000;

/** The shutdown options of every builder that stops a guest it started. */
export const shutdownConfigSchema: ConfigSchema = {
  fields: {
    shutdown_command: {
      type: "string",
      doc: "run in the guest to power it off (empty: the VM is stopped)",
    },
    shutdown_timeout: { type: "duration", doc: "wait for the guest to power off (default 5m)" },
  },
  prepare(config) {
    if (!config.shutdown_timeout) config.shutdown_timeout = DEFAULT_SHUTDOWN_TIMEOUT_MS;
  },
};
