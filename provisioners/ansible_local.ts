/**
 * The `ansible-local` provisioner: uploads the playbook (and the playbook
 * directory, roles, group_vars, host_vars, galaxy file, inventory) to a
 * staging directory on the machine and runs `ansible-playbook -c local`
 * there through the communicator, as Packer does. Ansible must already be
 * installed on the machine. The generated inventory (`127.0.0.1`, or one
 * entry per inventory group) is uploaded from memory: no local file is made.
 */
import { basename, dirname, resolve } from "node:path";
import type { ProvisionContext, ProvisionerPlugin } from "./provisioner.ts";
import { ansibleLocalSchema, DEFAULT_STAGING_PARENT } from "./ansible/local_config.ts";
import { listOption, stringOption } from "./ansible/file_checks.ts";
import { shellQuote } from "../communicators/ssh_quote.ts";

const enc = new TextEncoder();

/** Runs `command` on the machine with output to the UI; its exit status. */
async function remote(ctx: ProvisionContext, command: string): Promise<number> {
  const dec = new TextDecoder();
  const lines = (write: (l: string) => void) => {
    let rest = "";
    return {
      chunk: (c: Uint8Array) => {
        const parts = (rest + dec.decode(c, { stream: true })).split("\n");
        rest = parts.pop() ?? "";
        for (const l of parts) write(l.replace(/\r$/, ""));
      },
      flush: () => {
        if (rest !== "") write(rest);
        rest = "";
      },
    };
  };
  const out = lines((l) => ctx.ui.message(l));
  const err = lines((l) => ctx.ui.error(l));
  const result = await ctx.comm.start({
    command,
    stdout: out.chunk,
    stderr: err.chunk,
    signal: ctx.signal,
  });
  out.flush();
  err.flush();
  return result.exitStatus;
}

async function createDir(ctx: ProvisionContext, dir: string): Promise<void> {
  ctx.ui.message(`Creating directory: ${dir}`);
  if (await remote(ctx, `mkdir -p ${shellQuote(dir)}`) !== 0) {
    throw new Error("Non-zero exit status. See output above for more information.");
  }
}

async function uploadDir(ctx: ProvisionContext, dst: string, src: string): Promise<void> {
  await createDir(ctx, dst);
  // A trailing slash copies the contents, not the directory itself.
  await ctx.comm.uploadDir(dst, src.endsWith("/") ? src : `${src}/`);
}

async function uploadFile(ctx: ProvisionContext, dst: string, src: string): Promise<void> {
  await ctx.comm.upload(dst, await Deno.readFile(src));
}

/** The generated inventory: the machine itself, in each inventory group. */
function inventoryText(groups: string[]): string {
  return groups.length === 0 ? "127.0.0.1" : groups.map((g) => `[${g}]\n127.0.0.1\n`).join("");
}

async function stage(
  ctx: ProvisionContext,
  config: Record<string, unknown>,
  staging: string,
): Promise<{ playbooks: string[]; inventory: string }> {
  const playbookDir = stringOption(config, "playbook_dir");
  if (playbookDir) {
    ctx.ui.message("Uploading Playbook directory to Ansible staging directory...");
    await uploadDir(ctx, staging, playbookDir);
  } else {
    ctx.ui.message("Creating Ansible staging directory...");
    await createDir(ctx, staging);
  }
  const playbooks: string[] = [];
  const playbook = stringOption(config, "playbook_file");
  if (playbook) {
    ctx.ui.message("Uploading main Playbook file...");
    await uploadFile(ctx, `${staging}/${basename(playbook)}`, playbook);
    playbooks.push(`${staging}/${basename(playbook)}`);
  }
  const base = playbookDir ? resolve(playbookDir) : undefined;
  for (const file of listOption(config, "playbook_files").map((f) => resolve(f))) {
    // A playbook inside playbook_dir is already there, at its relative path.
    if (base && file.startsWith(base)) {
      playbooks.push(`${staging}${file.slice(base.length)}`);
      continue;
    }
    ctx.ui.message(`Uploading playbook file: ${file}`);
    await createDir(ctx, `${staging}${dirname(file)}`);
    await uploadFile(ctx, `${staging}${file}`, file);
    playbooks.push(`${staging}${file}`);
  }
  const galaxy = stringOption(config, "galaxy_file");
  if (galaxy) {
    ctx.ui.message("Uploading galaxy file...");
    await uploadFile(ctx, `${staging}/${basename(galaxy)}`, galaxy);
  }
  ctx.ui.message("Uploading inventory file...");
  const ownInventory = stringOption(config, "inventory_file");
  const suffix = crypto.getRandomValues(new Uint32Array(1))[0];
  const inventory = `${staging}/${
    ownInventory ? basename(ownInventory) : `packer-provisioner-ansible-local${suffix}`
  }`;
  await ctx.comm.upload(
    inventory,
    ownInventory
      ? await Deno.readFile(ownInventory)
      : enc.encode(inventoryText(listOption(config, "inventory_groups"))),
  );
  for (const [key, name] of [["group_vars", "group_vars"], ["host_vars", "host_vars"]]) {
    const dir = stringOption(config, key);
    if (dir) {
      ctx.ui.message(`Uploading ${key} directory...`);
      await uploadDir(ctx, `${staging}/${name}`, dir);
    }
  }
  const roles = listOption(config, "role_paths");
  if (roles.length > 0) ctx.ui.message("Uploading role directories...");
  for (const src of roles) await uploadDir(ctx, `${staging}/roles/${basename(src)}`, src);
  const paths = listOption(config, "playbook_paths");
  if (paths.length > 0) {
    ctx.ui.message("Uploading additional Playbooks...");
    await createDir(ctx, `${staging}/playbooks`);
    for (const src of paths) await uploadDir(ctx, `${staging}/playbooks/${basename(src)}`, src);
  }
  return { playbooks, inventory };
}

async function execute(
  ctx: ProvisionContext,
  config: Record<string, unknown>,
  staging: string,
  staged: { playbooks: string[]; inventory: string },
): Promise<void> {
  const command = String(config.command);
  const galaxy = stringOption(config, "galaxy_file");
  if (galaxy) {
    const line = `cd ${staging} && ${config.galaxy_command ?? "ansible-galaxy"} install -r ` +
      `${staging}/${basename(galaxy)} -p ${staging}/roles`;
    ctx.ui.message(`Executing Ansible Galaxy: ${line}`);
    const status = await remote(ctx, line);
    if (status !== 0) {
      throw new Error(`Error executing Ansible Galaxy: Non-zero exit status: ${status}`);
    }
  }
  // Packer's extra vars, then the user's arguments as written: a shell reads the line.
  let extra = ` --extra-vars "packer_build_name=${ctx.buildName} packer_builder_type=` +
    `${ctx.builderType} packer_http_addr=${ctx.buildData.PackerHTTPAddr ?? ""} ` +
    `-o IdentitiesOnly=yes" `;
  const args = listOption(config, "extra_arguments");
  if (args.length > 0) extra += args.join(" ");
  for (const playbook of staged.playbooks) {
    const line = `cd ${staging} && ${command} ${playbook}${extra} -c local -i ${staged.inventory}`;
    ctx.ui.message(`Executing Ansible: ${line}`);
    const status = await remote(ctx, line);
    if (status === 127) {
      throw new Error(
        `${command} could not be found. Verify that it is available on the\n` +
          "PATH after connecting to the machine.",
      );
    }
    if (status !== 0) throw new Error(`Non-zero exit status: ${status}`);
  }
}

/** The ansible-local provisioner plugin. */
export const ansibleLocalProvisioner: ProvisionerPlugin = {
  type: "ansible-local",
  schema: { ...ansibleLocalSchema, pluginType: "ansible-local" },
  needsCommunicator: true,
  async provision(ctx, config) {
    ctx.ui.say("Provisioning with Ansible...");
    const staging = stringOption(config, "staging_directory") ??
      `${DEFAULT_STAGING_PARENT}/${crypto.randomUUID()}`;
    const staged = await stage(ctx, config, staging);
    try {
      await execute(ctx, config, staging, staged);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw new Error(`Error executing Ansible: ${err instanceof Error ? err.message : err}`);
    }
    if (config.clean_staging_directory === true) {
      ctx.ui.message("Removing staging directory...");
      ctx.ui.message(`Removing directory: ${staging}`);
      if (await remote(ctx, `rm -rf ${shellQuote(staging)}`) !== 0) {
        throw new Error("Error removing staging directory: Non-zero exit status.");
      }
    }
  },
};
