/**
 * The `windows-restart` provisioner: restarts the machine and waits until
 * it is reachable again through the build's communicator (see
 * windows/restart_wait.ts for how "down" and "back" are told apart).
 */
import type { ProvisionContext, ProvisionerPlugin } from "./provisioner.ts";
import type { ConfigSchema } from "../template/schema.ts";
import { stringOr } from "./windows/options.ts";
import { durationMs } from "../communicators/ssh_settings.ts";
import {
  DEFAULT_REGISTRY_KEYS,
  DEFAULT_RESTART_CHECK_COMMAND,
  DEFAULT_RESTART_COMMAND,
  restartMachine,
} from "./windows/restart_wait.ts";

const RESTART_TIMEOUT_DEFAULT = 5 * 60_000;

const schema: ConfigSchema = {
  fields: {
    restart_command: { type: "string", doc: `default: ${DEFAULT_RESTART_COMMAND}` },
    restart_check_command: {
      type: "string",
      doc: 'must exit 0 once the machine is back; default prints "<host> restarted."',
    },
    restart_timeout: { type: "duration", default: RESTART_TIMEOUT_DEFAULT },
    check_registry: { type: "bool", default: false, doc: "also wait for pending-reboot keys" },
    registry_keys: { type: "string_list", doc: "keys check_registry waits on" },
  },
};

function provision(ctx: ProvisionContext, config: Record<string, unknown>): Promise<void> {
  const keys = Array.isArray(config.registry_keys) && config.registry_keys.length > 0
    ? config.registry_keys.map(String)
    : DEFAULT_REGISTRY_KEYS;
  return restartMachine(ctx, {
    restartCommand: stringOr(config.restart_command, DEFAULT_RESTART_COMMAND),
    checkCommand: stringOr(config.restart_check_command, DEFAULT_RESTART_CHECK_COMMAND),
    timeoutMs: durationMs(config.restart_timeout, 0) || RESTART_TIMEOUT_DEFAULT,
    checkRegistry: config.check_registry === true,
    registryKeys: keys,
  });
}

/** The `windows-restart` provisioner plugin. */
export const windowsRestartProvisioner: ProvisionerPlugin = {
  type: "windows-restart",
  schema: { ...schema, pluginType: "windows-restart" },
  needsCommunicator: true,
  provision,
};
