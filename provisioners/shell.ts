/**
 * The `shell` provisioner: uploads each script (or the inline commands as
 * one script) to the machine and runs it through `execute_command`, riding
 * out reboots with `start_retry_timeout` and `expect_disconnect` the way
 * Packer does.
 */
import type { ProvisionContext, ProvisionerPlugin } from "./provisioner.ts";
import type { ConfigSchema } from "../template/schema.ts";
import { durationMs } from "../communicators/ssh_settings.ts";
import { sleep } from "../runtime/sleep.ts";
import {
  checkEnvironmentVars,
  ENV_VAR_FILE_FORMAT,
  flattenEnvVars,
  LOCAL_ENV_VAR_FORMAT,
  packerEnv,
} from "./shared/env_vars.ts";
import {
  checkValidExitCodes,
  DEFAULT_VALID_EXIT_CODES,
  validExitCodes,
} from "./shared/exit_codes.ts";
import {
  DEFAULT_INLINE_SHEBANG,
  inlineScript,
  inlineShebang,
  writeTempScript,
} from "./shared/inline_script.ts";
import { checkScriptFiles } from "./shared/script_files.ts";
import {
  removeEnvFileAfterFailure,
  removeRemote,
  runScript,
  type ScriptJob,
  uploadEnvFile,
} from "./shell/run.ts";

const DEFAULT_COMMAND = "chmod +x {{.Path}}; {{.Vars}} {{.Path}}";
const DEFAULT_COMMAND_ENV_FILE = "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}";

const schema: ConfigSchema = {
  fields: {
    inline: { type: "string_list", doc: "commands, run as one script" },
    script: { type: "string", doc: "local script to upload and run" },
    scripts: { type: "string_list", doc: "local scripts, each run in isolation" },
    binary: { type: "bool", default: false, doc: "keep CRLF line endings" },
    valid_exit_codes: {
      type: "any",
      default: [...DEFAULT_VALID_EXIT_CODES],
      doc: "list of accepted exit codes",
    },
    env: { type: "string_map" },
    environment_vars: { type: "string_list", doc: "key=value pairs" },
    env_var_format: { type: "string" },
    use_env_var_file: { type: "bool", default: false },
    execute_command: { type: "string", late: true },
    expect_disconnect: { type: "bool", default: false },
    inline_shebang: { type: "string", default: DEFAULT_INLINE_SHEBANG },
    remote_folder: { type: "string", default: "/tmp" },
    remote_file: { type: "string", doc: "default script_<n>.sh" },
    remote_path: { type: "string", doc: "default remote_folder/remote_file" },
    skip_clean: { type: "bool", default: false },
    start_retry_timeout: { type: "duration", default: 5 * 60_000 },
    pause_after: { type: "duration", default: 0 },
  },
  oneOf: [["inline", "script", "scripts"]],
  check(config, report) {
    checkEnvironmentVars(config.environment_vars, report);
    checkValidExitCodes(config.valid_exit_codes, report);
    checkScriptFiles(config, report);
  },
};

function randomName(prefix: string): string {
  return `${prefix}_${Math.floor(Math.random() * 9999)}.sh`;
}

async function provision(ctx: ProvisionContext, config: Record<string, unknown>): Promise<void> {
  const scripts: string[] = [];
  if (typeof config.script === "string" && config.script !== "") scripts.push(config.script);
  if (Array.isArray(config.scripts)) scripts.push(...config.scripts.map(String));
  let inlineFile: string | undefined;
  if (Array.isArray(config.inline)) {
    inlineFile = await writeTempScript(
      inlineScript(config.inline.map(String), inlineShebang(config.inline_shebang)),
    );
    scripts.push(inlineFile);
  }
  const useEnvFile = config.use_env_var_file === true;
  const folder = String(config.remote_folder ?? "/tmp");
  const remotePath = typeof config.remote_path === "string" && config.remote_path !== ""
    ? config.remote_path
    : `${folder}/${
      typeof config.remote_file === "string" && config.remote_file
        ? config.remote_file
        : randomName("script")
    }`;
  const vars = flattenEnvVars({
    builtins: packerEnv(ctx),
    environmentVars: Array.isArray(config.environment_vars)
      ? config.environment_vars.map(String)
      : [],
    env: (config.env ?? {}) as Record<string, string>,
    format: typeof config.env_var_format === "string" && config.env_var_format !== ""
      ? config.env_var_format
      : useEnvFile
      ? ENV_VAR_FILE_FORMAT
      : LOCAL_ENV_VAR_FORMAT,
  });
  const envVarFile = useEnvFile ? `${folder}/${randomName("varfile")}` : "";
  const executeCommand = typeof config.execute_command === "string" && config.execute_command !== ""
    ? config.execute_command
    : useEnvFile
    ? DEFAULT_COMMAND_ENV_FILE
    : DEFAULT_COMMAND;
  const job: Omit<ScriptJob, "localPath" | "command"> = {
    remotePath,
    binary: config.binary === true,
    expectDisconnect: config.expect_disconnect === true,
    validExitCodes: validExitCodes(config.valid_exit_codes),
    skipClean: config.skip_clean === true,
    startRetryTimeoutMs: durationMs(config.start_retry_timeout, 5 * 60_000),
  };
  // Packer leaves the env var file behind when a script fails; it holds the
  // values use_env_var_file keeps out of argv, so kiln removes it either way.
  let envFileLeft = false;
  try {
    if (useEnvFile) {
      envFileLeft = true;
      await uploadEnvFile(ctx, envVarFile, vars, {
        binary: job.binary,
        retryMs: job.startRetryTimeoutMs,
      });
    }
    for (const path of scripts) {
      ctx.ui.say(`Provisioning with shell script: ${path}`);
      const command = ctx.render(executeCommand, {
        Path: remotePath,
        Vars: vars,
        EnvVarFile: envVarFile,
      });
      await runScript(ctx, { ...job, localPath: path, command });
    }
    if (useEnvFile && !job.skipClean) {
      await removeRemote(ctx, envVarFile, job.startRetryTimeoutMs);
    }
    envFileLeft = false;
  } finally {
    if (inlineFile) await Deno.remove(inlineFile).catch(() => {});
    if (envFileLeft && !job.skipClean) {
      await removeEnvFileAfterFailure(ctx, envVarFile);
    }
  }
  const pauseAfter = durationMs(config.pause_after, 0);
  if (pauseAfter > 0) {
    ctx.ui.say(`Pausing ${pauseAfter / 1000}s after this provisioner...`);
    await sleep(pauseAfter, ctx.signal);
  }
}

/** The `shell` provisioner plugin. */
export const shellProvisioner: ProvisionerPlugin = {
  type: "shell",
  schema: { ...schema, pluginType: "shell" },
  needsCommunicator: true,
  provision,
};
