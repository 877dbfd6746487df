/**
 * Packer's boot options for VNC builders: how long to wait after power-on,
 * and the keys typed then (`boot_command`, rendered at run time with
 * `{{ .HTTPIP }}`, `{{ .HTTPPort }}`, `{{ .Name }}`, so kept raw here).
 */
import type { ConfigSchema } from "../../template/schema.ts";
import { bootCommandProblems } from "./boot_command_check.ts";

/** Packer's boot_wait when none (or 0) is given. */
export const DEFAULT_BOOT_WAIT_MS = 10_000;

/** The boot options of every builder that types a boot command over VNC. */
export const vncBootConfigSchema: ConfigSchema = {
  fields: {
    boot_wait: {
      type: "duration",
      doc: "wait after power-on before typing (default 10s; negative: none)",
    },
    boot_command: {
      type: "string_list",
      late: true,
      doc:
        "keys typed over VNC; rendered at run time ({{ .HTTPIP }}, {{ .HTTPPort }}, {{ .Name }})",
    },
    boot_keygroup_interval: { type: "duration", doc: "pause after each group of keys" },
    boot_key_interval: {
      type: "duration",
      doc: "pause between keys (default PACKER_KEY_INTERVAL, else 100ms)",
    },
    disable_vnc: { type: "bool", doc: "no VNC server (then no boot_command)" },
  },
  prepare(config, report) {
    const command = (config.boot_command as string[] | undefined) ?? [];
    if (command.length > 0 && config.disable_vnc === true) {
      report("boot_command", "A boot command cannot be used when vnc is disabled.");
    }
    if (!config.boot_wait) config.boot_wait = DEFAULT_BOOT_WAIT_MS;
    for (const problem of bootCommandProblems(command.join(""))) report("boot_command", problem);
  },
};
