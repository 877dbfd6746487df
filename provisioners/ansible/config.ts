/**
 * The `ansible` provisioner's options and their checks, with the names and
 * defaults of Packer's documentation and the validation messages of Packer
 * 1.6.6 (which runs `<command> --version` while preparing, so a missing
 * Ansible fails `validate`, not the build an hour later).
 */
import type { ConfigSchema } from "../../template/schema.ts";
import { checkDirectory, checkFile, stringOption } from "./file_checks.ts";

/** Packer's default `sftp_command` (a path Debian does not have: Debian's is /usr/lib/openssh/). */
export const DEFAULT_SFTP_COMMAND = "/usr/lib/sftp-server -e";

/** Runs `<command> --version` as Packer's Prepare does; the problem, or undefined. */
export function versionProblem(command: string): string | undefined {
  let out: Deno.CommandOutput;
  try {
    out = new Deno.Command(command, { args: ["--version"], stdin: "null" }).outputSync();
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? `exec: "${command}": executable file not found in $PATH`
      : err instanceof Error
      ? err.message
      : String(err);
    return `Error running "${command} --version": ${why}`;
  }
  if (!out.success) return `Error running "${command} --version": exit status ${out.code}`;
  const text = new TextDecoder().decode(out.stdout);
  if (!/\w (\d+\.\d+[.\d+]*)/.test(text)) {
    return `Could not find ${command} version in output:\n${text}`;
  }
  return undefined;
}

function checkAnsible(
  config: Record<string, unknown>,
  report: (key: string, message: string) => void,
): void {
  const playbook = stringOption(config, "playbook_file");
  if (playbook === undefined) report("playbook_file", "playbook_file must be specified.");
  else checkFile("playbook_file", playbook, report);
  for (const key of ["galaxy_file", "ssh_authorized_key_file", "ssh_host_key_file"]) {
    const path = stringOption(config, key);
    if (path !== undefined) checkFile(key, path, report);
  }
  const port = config.local_port;
  if (typeof port === "number" && (port > 65535 || port < 0)) {
    report("local_port", `${port} must be a valid port`);
  }
  const inventoryDir = stringOption(config, "inventory_directory");
  if (inventoryDir !== undefined) checkDirectory("inventory_directory", inventoryDir, report);
  if (config.skip_version_check !== true) {
    const problem = versionProblem(stringOption(config, "command") ?? "ansible-playbook");
    if (problem) report("command", problem);
  }
}

/** The ansible provisioner's schema. */
export const ansibleSchema: ConfigSchema = {
  fields: {
    playbook_file: { type: "string", doc: "the playbook ansible-playbook runs (required)" },
    command: { type: "string", default: "ansible-playbook", doc: "the executable to run" },
    extra_arguments: {
      type: "string_list",
      doc: "arguments passed as they are (no shell); `build` data may be used",
    },
    ansible_env_vars: { type: "string_list", doc: `"KEY=value" entries set for ansible-playbook` },
    ansible_ssh_extra_args: {
      type: "string_list",
      doc: "--ssh-extra-args when a key file is used; default -o IdentitiesOnly=yes",
    },
    groups: { type: "string_list", doc: "inventory groups the host joins" },
    empty_groups: { type: "string_list", doc: "inventory groups present but empty" },
    host_alias: { type: "string", default: "default", doc: "the host's name in the inventory" },
    user: {
      type: "string",
      doc: "ansible_user; default the user running kiln (without the proxy: the build's user)",
    },
    local_port: {
      type: "int",
      default: 0,
      doc: "first of ten ports the proxy tries on 127.0.0.1; 0 lets the system choose",
    },
    ssh_host_key_file: { type: "string", doc: "the proxy's host key; default a one-time key" },
    ssh_authorized_key_file: {
      type: "string",
      doc: "public key the proxy accepts; default a one-time key pair",
    },
    sftp_command: {
      type: "string",
      default: DEFAULT_SFTP_COMMAND,
      doc: "run on the machine for Ansible's SFTP transfers through the proxy",
    },
    skip_version_check: { type: "bool", default: false, doc: "skip `<command> --version`" },
    use_sftp: { type: "bool", default: false, doc: "false: ANSIBLE_SCP_IF_SSH=True" },
    inventory_directory: { type: "string", doc: "where the generated inventory file goes" },
    inventory_file: { type: "string", doc: "an inventory of your own (no file is generated)" },
    keep_inventory_file: { type: "bool", default: false, doc: "leave the generated inventory" },
    galaxy_file: { type: "string", doc: "requirements installed with ansible-galaxy first" },
    galaxy_command: { type: "string", default: "ansible-galaxy" },
    galaxy_force_install: { type: "bool", default: false, doc: "ansible-galaxy -f" },
    roles_path: { type: "string", doc: "ansible-galaxy -p for roles" },
    collections_path: { type: "string", doc: "ansible-galaxy -p for collections" },
    use_proxy: {
      type: "bool",
      default: true,
      doc: "serve SSH on 127.0.0.1 forwarding to the build's communicator; false: connect directly",
    },
  },
  check: checkAnsible,
};
