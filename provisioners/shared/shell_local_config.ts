/**
 * The options shell-local accepts, shared by the provisioner and the
 * post-processor (Packer builds both from one config), with Packer's
 * validation messages.
 */
import type { ConfigSchema } from "../../template/schema.ts";
import { checkEnvironmentVars } from "./env_vars.ts";
import { checkValidExitCodes, DEFAULT_VALID_EXIT_CODES } from "./exit_codes.ts";
import { checkExecuteCommand } from "./execute_command.ts";
import { DEFAULT_INLINE_SHEBANG } from "./inline_script.ts";
import { checkScriptFiles } from "./script_files.ts";

/** Runtime OS names `only_on` accepts (Go's GOOS values Packer lists). */
export const SUPPORTED_OS = ["darwin", "freebsd", "linux", "openbsd", "solaris", "windows"];

const TOO_MANY = "You may only specify one of the following options: Command, Inline, Script or " +
  "Scripts. Please consolidate these options in your config.";

const set = (v: unknown) => v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0);

function checkShellLocal(
  config: Record<string, unknown>,
  report: (key: string, message: string) => void,
): void {
  const { command, inline, script, scripts } = config;
  if (!set(command) && !set(inline) && !set(script) && !set(scripts)) {
    report("", "Command, Inline, Script and Scripts options cannot all be empty.");
  }
  const given = [command, inline, script, scripts].filter(set).length;
  if (given > 1) report("", TOO_MANY);
  checkScriptFiles(config, report);
  const onlyOn = config.only_on;
  if (Array.isArray(onlyOn)) {
    onlyOn.forEach((os) => {
      if (!SUPPORTED_OS.includes(String(os))) {
        report(
          "only_on",
          `Invalid OS specified in only_on: '${os}'\nSupported OS names: ${
            SUPPORTED_OS.join(", ")
          }`,
        );
      }
    });
  }
  checkEnvironmentVars(config.environment_vars, report);
  checkExecuteCommand(config.execute_command, report);
  checkValidExitCodes(config.valid_exit_codes, report);
}

/** The shell-local schema (provisioner and post-processor alike). */
export const shellLocalSchema: ConfigSchema = {
  fields: {
    command: { type: "string", doc: "a single command, run like a one-line inline script" },
    inline: { type: "string_list", doc: "commands written to one script and run together" },
    script: { type: "string", doc: "path of a local script to run" },
    scripts: { type: "string_list", doc: "local scripts, run in order, each on its own" },
    environment_vars: { type: "string_list", doc: `"KEY=value" entries passed via {{.Vars}}` },
    env: { type: "string_map", doc: "variables by name; override environment_vars" },
    env_var_format: {
      type: "string",
      doc: `how each variable is written into {{.Vars}}; default "%s='%s' ", ` +
        `with use_env_var_file "export %s='%s'\\n"`,
    },
    use_env_var_file: {
      type: "bool",
      default: false,
      doc: "source the variables from a 0600 temp file ({{.EnvVarFile}}), not the command line",
    },
    execute_command: {
      type: "any",
      late: true,
      doc: `argv rendered with {{.Vars}}, {{.Script}} and {{.EnvVarFile}}; default ` +
        `["/bin/sh", "-c", "{{.Vars}} {{.Script}}"], with use_env_var_file ` +
        `["/bin/sh", "-c", ". {{.EnvVarFile}} && {{.Script}}"]`,
    },
    inline_shebang: { type: "string", default: DEFAULT_INLINE_SHEBANG },
    only_on: { type: "string_list", doc: "run only on these host OSes (linux, darwin, ...)" },
    tempfile_extension: { type: "string", doc: "extension of the inline script's temp file" },
    use_linux_pathing: { type: "bool", default: false, doc: "Windows/WSL only; no effect here" },
    valid_exit_codes: {
      type: "any",
      default: [...DEFAULT_VALID_EXIT_CODES],
      doc: "exit statuses counted as success",
    },
  },
  check: checkShellLocal,
};
