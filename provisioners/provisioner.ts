/** The provisioner plugin contract. */
import type { ConfigSchema } from "../template/schema.ts";
import type { Communicator } from "../communicators/communicator.ts";
import type { ResourceLedger, SecretStore, Ui } from "../runtime/types.ts";

/** What a provisioner sees while it runs. */
export interface ProvisionContext {
  runId: string;
  buildName: string;
  builderType: string;
  /** The build's connection (type "none" refuses every call). */
  comm: Communicator;
  ui: Ui;
  /** Aborted on cancel or when the provisioner's `timeout` expires. */
  signal: AbortSignal;
  secrets: SecretStore;
  /**
   * Connection and instance data for `build \`X\``: ID, Host, Port, User,
   * Password, ConnType, PackerRunUUID, SSHPublicKey, SSHPrivateKey, ...
   */
  buildData: Record<string, string>;
  /** Renders a `late` field with component data such as `{ Path, Vars }`. */
  render(text: string, data?: Record<string, unknown>): string;
  /** Appends an event (e.g. output summary, transfer) to the run log. */
  emit(type: string, data?: Record<string, unknown>): Promise<void>;
  /** Records what the provisioner starts locally (a process group) in the run's ledger. */
  ledger?: ResourceLedger;
}

/** A provisioner type, e.g. "shell-local", "shell", "file", "breakpoint". */
export interface ProvisionerPlugin {
  type: string;
  schema: ConfigSchema;
  /** True when it cannot work with `"communicator": "none"` (validation refuses). */
  needsCommunicator: boolean;
  /** Does the work; throws on failure (the runtime applies max_retries). */
  provision(ctx: ProvisionContext, config: Record<string, unknown>): Promise<void>;
}
