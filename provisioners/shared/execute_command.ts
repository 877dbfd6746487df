/**
 * `execute_command` as an argument vector (shell-local): the default runs the
 * script through /bin/sh with the variables prefixed, and a lone string keeps
 * working by being handed to `sh -c`, as the reference documents.
 */

/** Packer's default on Unix hosts. */
export const DEFAULT_LOCAL_EXECUTE_COMMAND: readonly string[] = [
  "/bin/sh",
  "-c",
  "{{.Vars}} {{.Script}}",
];

/**
 * The default with `use_env_var_file` (a kiln extension, shaped after the
 * shell provisioner's): the variables are sourced from the file, so no value
 * is on any command line.
 */
export const DEFAULT_LOCAL_ENV_FILE_EXECUTE_COMMAND: readonly string[] = [
  "/bin/sh",
  "-c",
  ". {{.EnvVarFile}} && {{.Script}}",
];

/** Reports an `execute_command` that is neither a string nor an array of strings. */
export function checkExecuteCommand(
  value: unknown,
  report: (key: string, message: string) => void,
  key = "execute_command",
): void {
  if (value === undefined || typeof value === "string") return;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    report(key, `expected an array of strings such as ["/bin/sh", "-c", "{{.Vars}} {{.Script}}"]`);
  }
}

/**
 * The argument vector to run, before rendering: `fallback` when unset or
 * empty; `["sh", "-c", s]` for a single string or a one-element array.
 */
export function executeCommandArgv(
  value: unknown,
  fallback: readonly string[] = DEFAULT_LOCAL_EXECUTE_COMMAND,
): string[] {
  if (typeof value === "string") {
    return value === "" ? [...fallback] : ["sh", "-c", value];
  }
  if (!Array.isArray(value) || value.length === 0) return [...fallback];
  const argv = value.map(String);
  return argv.length === 1 ? ["sh", "-c", argv[0]] : argv;
}

/**
 * The template data execute_command sees: `{{.Vars}}`, `{{.Script}}` and its
 * alias `{{.Command}}`, and `{{.EnvVarFile}}` (empty without use_env_var_file).
 */
export interface ExecuteCommandData extends Record<string, unknown> {
  Vars: string;
  Script: string;
  Command: string;
  EnvVarFile: string;
}

/** Renders each element with the component's template data. */
export function renderExecuteCommand(
  argv: readonly string[],
  render: (text: string, data?: Record<string, unknown>) => string,
  data: ExecuteCommandData,
): string[] {
  return argv.map((part) => render(part, data));
}
