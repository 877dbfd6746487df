/**
 * Installs a `galaxy_file`'s requirements with ansible-galaxy before the
 * playbook runs (Packer's rule: roles when the file has a `roles:` section
 * or no `collections:` one, collections when it has `collections:`).
 */
import type { ProvisionContext } from "../provisioner.ts";
import { stringOption } from "./file_checks.ts";
import { runAnsibleCommand } from "./run_command.ts";

/** Runs ansible-galaxy for the roles and/or collections `galaxy_file` lists. */
export async function runGalaxy(
  ctx: ProvisionContext,
  config: Record<string, unknown>,
  env: Record<string, string>,
): Promise<void> {
  const file = String(config.galaxy_file);
  const command = stringOption(config, "galaxy_command") ?? "ansible-galaxy";
  const text = await Deno.readTextFile(file);
  const hasRoles = /^roles:/m.test(text);
  const hasCollections = /^collections:/m.test(text);
  const force = config.galaxy_force_install === true ? ["-f"] : [];
  const rolesPath = stringOption(config, "roles_path");
  const collectionsPath = stringOption(config, "collections_path");
  if (hasRoles || !hasCollections) {
    ctx.ui.message("Executing Ansible Galaxy");
    const args = ["install", "-r", file, ...force, ...(rolesPath ? ["-p", rolesPath] : [])];
    await runAnsibleCommand(ctx, [command, ...args], env, "ansible-galaxy");
  }
  if (hasCollections) {
    ctx.ui.message("Executing Ansible Galaxy");
    const args = [
      "collection",
      "install",
      "-r",
      file,
      ...force,
      ...(collectionsPath ? ["-p", collectionsPath] : []),
    ];
    await runAnsibleCommand(ctx, [command, ...args], env, "ansible-galaxy");
  }
}
