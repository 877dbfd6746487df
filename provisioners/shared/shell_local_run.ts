/**
 * Runs shell-local's scripts (Packer's shell-local `Run`), for the
 * provisioner and the post-processor: inline commands become a temporary
 * script, each script runs through the rendered execute_command with the
 * flattened variables, output streams to the UI, and the exit status must
 * be one of valid_exit_codes. With `use_env_var_file` the variables go to a
 * 0600 temp file the command sources instead of onto its command line, where
 * any local user could read them in `ps`.
 */
import { resolve } from "node:path";
import type { ResourceLedger, Ui } from "../../runtime/types.ts";
import {
  ENV_VAR_FILE_FORMAT,
  flattenEnvVars,
  LOCAL_ENV_VAR_FORMAT,
  packerEnv,
  runUuidEnv,
} from "./env_vars.ts";
import { assertValidExitCode, validExitCodes } from "./exit_codes.ts";
import {
  DEFAULT_LOCAL_ENV_FILE_EXECUTE_COMMAND,
  DEFAULT_LOCAL_EXECUTE_COMMAND,
  executeCommandArgv,
  renderExecuteCommand,
} from "./execute_command.ts";
import { inlineScript, inlineShebang, writeTempScript } from "./inline_script.ts";
import { runLocalCommand, StartError } from "./local_process.ts";

/** What shell-local needs from its caller. */
export interface ShellLocalContext {
  buildName: string;
  builderType: string;
  ui: Ui;
  signal: AbortSignal;
  /** Renders execute_command with `{ Vars, Script, Command }`. */
  render(text: string, data?: Record<string, unknown>): string;
  emit(type: string, data?: Record<string, unknown>): Promise<void>;
  /** Build data (`PackerHTTPAddr`, ...) for the PACKER_HTTP_* variables. */
  buildData?: Record<string, unknown>;
  /** The run's ledger: each script's process group is recorded there while it runs. */
  ledger?: ResourceLedger;
}

/** The event recording each script's outcome and a bounded output summary. */
export const SHELL_LOCAL_EVENT = "ShellLocalScriptFinished";

/** The host OS as Go's GOOS names it. */
export function hostOs(): string {
  return Deno.build.os;
}

/** Runs every script of a decoded shell-local config; throws on the first failure. */
export async function runShellLocal(
  ctx: ShellLocalContext,
  config: Record<string, unknown>,
): Promise<void> {
  const onlyOn = (config.only_on as string[] | undefined) ?? [];
  if (onlyOn.length > 0 && !onlyOn.includes(hostOs())) {
    ctx.ui.say("Skipping shell-local due to runtime OS");
    return;
  }
  const useEnvFile = config.use_env_var_file === true;
  const vars = flattenEnvVars({
    builtins: packerEnv(ctx),
    environmentVars: config.environment_vars as string[] | undefined,
    env: config.env as Record<string, string> | undefined,
    format: typeof config.env_var_format === "string" && config.env_var_format !== ""
      ? config.env_var_format
      : useEnvFile
      ? ENV_VAR_FILE_FORMAT
      : LOCAL_ENV_VAR_FORMAT,
  });
  const argv = executeCommandArgv(
    config.execute_command,
    useEnvFile ? DEFAULT_LOCAL_ENV_FILE_EXECUTE_COMMAND : DEFAULT_LOCAL_EXECUTE_COMMAND,
  );
  const allowed = validExitCodes(config.valid_exit_codes);
  const { scripts, temp } = await scriptsToRun(config);
  let envVarFile = "";
  try {
    // In TMPDIR, which the CLI points at the run's own 0700 temp dir: a kill -9
    // before the finally below leaves it where --resume and cleanup sweep.
    if (useEnvFile) {
      envVarFile = await writeTempScript(vars, {
        prefix: "varfile_",
        extension: "sh",
        mode: 0o600,
      });
    }
    for (const script of scripts) {
      ctx.signal.throwIfAborted();
      const path = temp === script ? script : resolve(script);
      const command = renderExecuteCommand(argv, ctx.render, {
        Vars: vars,
        Script: path,
        Command: path,
        EnvVarFile: envVarFile,
      });
      ctx.ui.say(`Running local shell script: ${script}`);
      const started = Date.now();
      let result;
      try {
        result = await runLocalCommand(command, {
          signal: ctx.signal,
          stdout: (line) => ctx.ui.message(line),
          stderr: (line) => ctx.ui.error(line),
          guard: ctx.ui.guard,
          ledger: ctx.ledger,
          label: script,
          env: runUuidEnv(ctx.buildData),
          say: (message) => ctx.ui.say(message),
        });
      } catch (err) {
        if (err instanceof StartError) {
          throw new Error(
            `Error executing script: ${path}\n\nPlease see output above for more information. (${err.message})`,
          );
        }
        throw err;
      }
      await ctx.emit(SHELL_LOCAL_EVENT, {
        script,
        exitStatus: result.code,
        ...(result.signal ? { signal: result.signal } : {}),
        durationMs: Date.now() - started,
        stdout: result.stdout,
        stderr: result.stderr,
      });
      assertValidExitCode(result.code, allowed);
    }
  } finally {
    if (temp) await Deno.remove(temp).catch(() => {});
    if (envVarFile) await Deno.remove(envVarFile).catch(() => {});
  }
}

async function scriptsToRun(
  config: Record<string, unknown>,
): Promise<{ scripts: string[]; temp?: string }> {
  const scripts = config.scripts as string[] | undefined;
  if (scripts && scripts.length > 0) return { scripts: [...scripts] };
  if (typeof config.script === "string" && config.script !== "") {
    return { scripts: [config.script] };
  }
  const inline = typeof config.command === "string" && config.command !== ""
    ? [config.command]
    : (config.inline as string[] | undefined) ?? [];
  const temp = await writeTempScript(inlineScript(inline, inlineShebang(config.inline_shebang)), {
    extension: config.tempfile_extension as string | undefined,
  });
  return { scripts: [temp], temp };
}
