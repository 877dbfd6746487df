/**
 * The `null` builder: connects to an existing machine (or to nothing, with
 * `"communicator": "none"`) and runs the provisioners. Its artifact is
 * Packer's null artifact, which carries no files, so post-processors such
 * as shell-local or manifest still run after it.
 */
import type { BuilderPlugin } from "./builder.ts";
import type { ConfigSchema } from "../template/schema.ts";
import { composeSchema } from "../template/schema.ts";
import { communicatorSchema } from "../communicators/config.ts";
import { connectStep } from "../steps/common/connect.ts";
import { provisionStep } from "../steps/common/provision.ts";

/** The null artifact's builder id (Packer's). */
export const NULL_BUILDER_ID = "fnoeding.null";

const given = (v: unknown) => typeof v === "string" && v !== "";

/** Packer's null-builder checks, with its messages. */
const nullChecks: ConfigSchema = {
  fields: {},
  check(config, report) {
    if (config.communicator === "none") return;
    const winrm = config.communicator === "winrm";
    const host = winrm ? config.winrm_host : config.ssh_host;
    const user = winrm ? config.winrm_username : config.ssh_username;
    if (!given(host)) {
      report(
        winrm ? "winrm_host" : "ssh_host",
        "a Host must be specified, please reference your communicator documentation",
      );
    }
    if (winrm && !given(user)) {
      report("winrm_username", "winrm_username must be specified.");
    }
    const methods = winrm ? [config.winrm_password] : [
      config.ssh_agent_auth === true || undefined,
      config.ssh_password,
      config.ssh_private_key_file,
    ];
    const count = methods.filter((m) => m === true || given(m)).length;
    if (count === 0) {
      report(
        "",
        "one authentication method must be specified, please reference your communicator " +
          "documentation",
      );
    } else if (count > 1) {
      report(
        "",
        "only one of ssh_agent_auth, ssh_password, and ssh_private_key_file must be specified",
      );
    }
  },
};

/** The null builder plugin. */
export const nullBuilder: BuilderPlugin = {
  type: "null",
  schema: composeSchema(communicatorSchema("ssh"), nullChecks, {
    fields: {},
    pluginType: "fnoeding.null",
  }),
  // Packer's null builder calls its instance "Null" (`{{build "ID"}}`).
  steps: () => [connectStep({ buildData: () => ({ ID: "Null" }) }), provisionStep()],
  artifact: () => ({
    builderId: NULL_BUILDER_ID,
    id: "Null",
    files: [],
    description: "Did not export anything. This is the null builder",
  }),
  resources: {},
};
