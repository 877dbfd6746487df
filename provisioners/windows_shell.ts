/**
 * The `windows-shell` provisioner: uploads each script (or the inline
 * commands as one batch file) and runs it with cmd.exe through
 * `execute_command`, the variables set by `set "K=V" && ` prefixes, as
 * Packer does.
 */
import type { ProvisionContext, ProvisionerPlugin } from "./provisioner.ts";
import type { ConfigSchema } from "../template/schema.ts";
import { validExitCodes } from "./shared/exit_codes.ts";
import { CMD_ENV_VAR_FORMAT, windowsEnvVars } from "./windows/env_vars.ts";
import { windowsScripts } from "./windows/scripts.ts";
import {
  checkWindowsScriptOptions,
  startRetryMs,
  stringOr,
  windowsScriptFields,
} from "./windows/options.ts";
import { runWindowsScript } from "./windows/run_script.ts";

/** Packer's default `execute_command`. */
export const WINDOWS_SHELL_EXECUTE_COMMAND = `{{.Vars}}"{{.Path}}"`;

/** Packer's default `remote_path`. */
export const WINDOWS_SHELL_REMOTE_PATH = "c:/Windows/Temp/script.bat";

const schema: ConfigSchema = {
  fields: {
    ...windowsScriptFields("batch file"),
    env_var_format: { type: "string", doc: `default: ${CMD_ENV_VAR_FORMAT}` },
    execute_command: {
      type: "string",
      late: true,
      doc: `default: ${WINDOWS_SHELL_EXECUTE_COMMAND}`,
    },
    remote_path: { type: "string", default: WINDOWS_SHELL_REMOTE_PATH },
  },
  check: checkWindowsScriptOptions,
};

async function provision(ctx: ProvisionContext, config: Record<string, unknown>): Promise<void> {
  ctx.ui.say("Provisioning with windows-shell...");
  const remotePath = stringOr(config.remote_path, WINDOWS_SHELL_REMOTE_PATH);
  const vars = windowsEnvVars(
    ctx,
    config.environment_vars,
    stringOr(config.env_var_format, CMD_ENV_VAR_FORMAT),
    // Packer hands windows-shell values to cmd.exe as they are.
    (value) => value,
  );
  const command = ctx.render(stringOr(config.execute_command, WINDOWS_SHELL_EXECUTE_COMMAND), {
    Vars: vars,
    Path: remotePath,
  });
  const scripts = await windowsScripts(config, "windows-shell-provisioner");
  try {
    for (const path of scripts.paths) {
      ctx.ui.say(`Provisioning with shell script: ${path}`);
      await runWindowsScript(ctx, {
        localPath: path,
        bytes: await Deno.readFile(path),
        remotePath,
        command: () => Promise.resolve(command),
        validExitCodes: validExitCodes(config.valid_exit_codes),
        startRetryTimeoutMs: startRetryMs(config),
      });
    }
  } finally {
    if (scripts.temp) await Deno.remove(scripts.temp).catch(() => {});
  }
}

/** The `windows-shell` provisioner plugin. */
export const windowsShellProvisioner: ProvisionerPlugin = {
  type: "windows-shell",
  schema: { ...schema, pluginType: "windows-shell" },
  needsCommunicator: true,
  provision,
};
