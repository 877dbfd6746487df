/**
 * The `ansible-local` provisioner's options and their checks, with the
 * names and defaults of Packer's documentation and Packer 1.6.6's
 * validation messages, in its order.
 */
import type { ConfigSchema } from "../../template/schema.ts";
import { checkDirectory, checkFile, listOption, stringOption } from "./file_checks.ts";

/** Packer's default `command`: the variables make Ansible's output stream, in colour. */
export const DEFAULT_LOCAL_COMMAND = "ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook";

/** Where the staging directory goes by default (a fresh name under it per build). */
export const DEFAULT_STAGING_PARENT = "/tmp/packer-provisioner-ansible-local";

function checkAnsibleLocal(
  config: Record<string, unknown>,
  report: (key: string, message: string) => void,
): void {
  const playbook = stringOption(config, "playbook_file");
  const playbooks = listOption(config, "playbook_files");
  if (playbook !== undefined && playbooks.length > 0) {
    report("", "Either playbook_file or playbook_files can be specified, not both");
  }
  if (playbook === undefined && playbooks.length === 0) {
    report("", "Either playbook_file or playbook_files must be specified");
  }
  if (playbook !== undefined) checkFile("playbook_file", playbook, report);
  for (const p of playbooks) checkFile("playbook_files", p, report);
  for (const key of ["inventory_file", "galaxy_file"]) {
    const path = stringOption(config, key);
    if (path !== undefined) checkFile(key, path, report);
  }
  for (const key of ["playbook_dir", "group_vars", "host_vars"]) {
    const path = stringOption(config, key);
    if (path !== undefined) checkDirectory(key, path, report);
  }
  for (const key of ["playbook_paths", "role_paths"]) {
    for (const p of listOption(config, key)) checkDirectory(key, p, report);
  }
}

/** The ansible-local provisioner's schema. */
export const ansibleLocalSchema: ConfigSchema = {
  fields: {
    playbook_file: { type: "string", doc: "the playbook run on the machine" },
    playbook_files: { type: "string_list", doc: "several playbooks, run in order" },
    playbook_dir: { type: "string", doc: "a local directory uploaded as the staging directory" },
    playbook_paths: { type: "string_list", doc: "directories uploaded under playbooks/" },
    role_paths: { type: "string_list", doc: "role directories uploaded under roles/" },
    group_vars: { type: "string", doc: "directory uploaded as group_vars/" },
    host_vars: { type: "string", doc: "directory uploaded as host_vars/" },
    inventory_file: { type: "string", doc: "an inventory of your own (else 127.0.0.1)" },
    inventory_groups: { type: "string_list", doc: "groups 127.0.0.1 is put in" },
    galaxy_file: { type: "string", doc: "requirements installed into roles/ on the machine" },
    galaxy_command: { type: "string", default: "ansible-galaxy" },
    extra_arguments: {
      type: "string_list",
      doc: "appended to the command line (a shell reads it)",
    },
    command: { type: "string", default: DEFAULT_LOCAL_COMMAND },
    staging_directory: {
      type: "string",
      doc: `where files go on the machine; default ${DEFAULT_STAGING_PARENT}/<uuid>`,
    },
    clean_staging_directory: { type: "bool", default: false, doc: "remove it afterwards" },
  },
  check: checkAnsibleLocal,
};
