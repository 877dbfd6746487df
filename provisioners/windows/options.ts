/**
 * Options windows-shell and powershell share (Packer builds both from the
 * same shell provisioner config): what to run, the variables, exit codes,
 * start retries — with one validation for all of them.
 */
import type { ConfigSchema, FieldSpec } from "../../template/schema.ts";
import { durationMs } from "../../communicators/ssh_settings.ts";
import { checkEnvironmentVars } from "../shared/env_vars.ts";
import { checkValidExitCodes, DEFAULT_VALID_EXIT_CODES } from "../shared/exit_codes.ts";
import { checkWindowsScripts } from "./scripts.ts";

/** Packer's start_retry_timeout default (0 means the default too). */
const START_RETRY_DEFAULT = 5 * 60_000;

/** The shared fields; `kind` names the script type in the docs ("batch file", ".ps1 script"). */
export function windowsScriptFields(kind: string): Record<string, FieldSpec> {
  return {
    inline: { type: "string_list", doc: `commands written to one ${kind}` },
    script: { type: "string", doc: `local ${kind} to upload and run` },
    scripts: { type: "string_list", doc: `local ${kind}s, each run on its own` },
    binary: { type: "bool", default: false, doc: "accepted for Packer compatibility; no effect" },
    environment_vars: { type: "string_list", doc: `"KEY=value" entries set before the script` },
    start_retry_timeout: { type: "duration", default: START_RETRY_DEFAULT },
    valid_exit_codes: {
      type: "any",
      default: [...DEFAULT_VALID_EXIT_CODES],
      doc: "exit codes counted as success",
    },
  };
}

/** Validation of the shared fields, in Packer's words. */
export const checkWindowsScriptOptions: NonNullable<ConfigSchema["check"]> = (config, report) => {
  checkWindowsScripts(config, report);
  checkEnvironmentVars(config.environment_vars, report);
  checkValidExitCodes(config.valid_exit_codes, report);
};

/** start_retry_timeout in milliseconds. */
export function startRetryMs(config: Record<string, unknown>): number {
  return durationMs(config.start_retry_timeout, 0) || START_RETRY_DEFAULT;
}

/** A string option, or `fallback` when it is unset or empty (Packer treats both alike). */
export function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}
