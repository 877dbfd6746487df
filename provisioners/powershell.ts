/**
 * The `powershell` provisioner: uploads a file of `$env:` assignments and
 * each script (or the inline commands as one script), then runs
 * `execute_command` — by default a wrapper that dot-sources the variables,
 * invokes the script and exits with its exit code, sent as
 * `powershell -EncodedCommand` so cmd.exe cannot mangle it. With
 * `elevated_user` the wrapper runs as a scheduled task (windows/elevated.ts).
 * Afterwards the uploaded files are removed unless `skip_clean`.
 */
import { basename } from "node:path";
import type { ProvisionContext, ProvisionerPlugin } from "./provisioner.ts";
import type { ConfigSchema } from "../template/schema.ts";
import { validExitCodes } from "./shared/exit_codes.ts";
import { escapePowerShell, POWERSHELL_ENV_VAR_FORMAT, windowsEnvVars } from "./windows/env_vars.ts";
import { windowsScripts } from "./windows/scripts.ts";
import {
  checkWindowsScriptOptions,
  startRetryMs,
  stringOr,
  windowsScriptFields,
} from "./windows/options.ts";
import { runWindowsScript } from "./windows/run_script.ts";
import {
  defaultExecuteCommand,
  encodedCommandLine,
  EXECUTION_POLICIES,
} from "./windows/powershell_command.ts";
import { elevatedRunner } from "./windows/elevated.ts";
import { removeUploads } from "./windows/cleanup.ts";

const schema: ConfigSchema = {
  fields: {
    ...windowsScriptFields(".ps1 script"),
    env_var_format: { type: "string", doc: `default: ${POWERSHELL_ENV_VAR_FORMAT}` },
    elevated_env_var_format: { type: "string", doc: "env_var_format for elevated runs" },
    execute_command: { type: "string", late: true, doc: "rendered with {{.Path}} and {{.Vars}}" },
    elevated_execute_command: { type: "string", late: true, doc: "execute_command when elevated" },
    elevated_user: { type: "string", doc: "run the scripts as this user via a scheduled task" },
    elevated_password: { type: "string", sensitive: true, doc: "that user's password" },
    execution_policy: {
      type: "string",
      enum: EXECUTION_POLICIES,
      default: "bypass",
      doc: "PowerShell execution policy of the default execute_command",
    },
    debug_mode: { type: "int", default: 0, doc: "Set-PsDebug -Trace level (0, 1 or 2)" },
    remote_path: { type: "string", doc: "default c:/Windows/Temp/script-<uuid>.ps1" },
    remote_env_var_path: {
      type: "string",
      doc: "default c:/Windows/Temp/packer-ps-env-vars-<uuid>.ps1",
    },
    skip_clean: { type: "bool", default: false, doc: "leave the uploaded scripts on the machine" },
  },
  check(config, report) {
    checkWindowsScriptOptions(config, report);
    if (!config.elevated_user && config.elevated_password) {
      report("elevated_user", "Must supply an 'elevated_user' if 'elevated_password' provided");
    }
    const debug = config.debug_mode;
    if (typeof debug === "number" && !(debug >= 0 && debug <= 2)) {
      report(
        "debug_mode",
        `${debug} is an invalid Trace level for \`debug_mode\`; valid values are 0, 1, and 2`,
      );
    }
  },
};

/** Where each file goes; Packer's defaults carry a fresh id per provisioner run. */
function remotePaths(config: Record<string, unknown>, id: string) {
  return {
    script: stringOr(config.remote_path, `c:/Windows/Temp/script-${id}.ps1`),
    envVars: stringOr(config.remote_env_var_path, `c:/Windows/Temp/packer-ps-env-vars-${id}.ps1`),
    cleanup: `c:/Windows/Temp/packer-cleanup-${id}.ps1`,
  };
}

async function provision(ctx: ProvisionContext, config: Record<string, unknown>): Promise<void> {
  ctx.ui.say("Provisioning with Powershell...");
  const id = crypto.randomUUID();
  const paths = remotePaths(config, id);
  const user = stringOr(config.elevated_user, "");
  const password = stringOr(config.elevated_password, "");
  if (password !== "") ctx.secrets.mask(password);
  const elevated = user !== "";
  const policy = stringOr(config.execution_policy, "bypass");
  const defaultCommand = defaultExecuteCommand(policy, Number(config.debug_mode ?? 0));
  const executeCommand = stringOr(config.execute_command, defaultCommand);
  const template = elevated
    ? stringOr(config.elevated_execute_command, defaultCommand)
    : executeCommand;
  const vars = windowsEnvVars(
    ctx,
    config.environment_vars,
    stringOr(
      elevated ? config.elevated_env_var_format : config.env_var_format,
      POWERSHELL_ENV_VAR_FORMAT,
    ),
    escapePowerShell,
  );
  const varsBytes = new TextEncoder().encode(vars);
  const retryMs = startRetryMs(config);
  const uploaded = new Set<string>([paths.envVars]);
  const scripts = await windowsScripts(config, "powershell-provisioner");
  try {
    for (const path of scripts.paths) {
      ctx.ui.say(`Provisioning with powershell script: ${path}`);
      // A remote_path ending in a slash names a directory: the script keeps its own name.
      const remotePath = paths.script.endsWith("/") ? paths.script + basename(path) : paths.script;
      const command = async () => {
        await ctx.comm.upload(paths.envVars, varsBytes, { size: varsBytes.length });
        const line = encodedCommandLine(
          ctx.render(template, { Path: remotePath, Vars: paths.envVars }),
        );
        if (!elevated) return line;
        const runner = elevatedRunner({ command: line, user, password, id: crypto.randomUUID() });
        const bytes = new TextEncoder().encode(runner.script);
        await ctx.comm.upload(runner.remotePath, bytes, { size: bytes.length });
        return runner.command;
      };
      await runWindowsScript(ctx, {
        localPath: path,
        bytes: await Deno.readFile(path),
        remotePath,
        command,
        validExitCodes: validExitCodes(config.valid_exit_codes),
        startRetryTimeoutMs: retryMs,
      });
      uploaded.add(remotePath);
    }
  } finally {
    if (scripts.temp) await Deno.remove(scripts.temp).catch(() => {});
  }
  if (config.skip_clean === true) return;
  await removeUploads(ctx, {
    files: [...uploaded],
    cleanupPath: paths.cleanup,
    command: (path) =>
      encodedCommandLine(ctx.render(executeCommand, { Path: path, Vars: paths.envVars })),
  });
}

/** The `powershell` provisioner plugin. */
export const powershellProvisioner: ProvisionerPlugin = {
  type: "powershell",
  schema: { ...schema, pluginType: "powershell" },
  needsCommunicator: true,
  provision,
};
