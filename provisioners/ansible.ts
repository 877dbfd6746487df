/**
 * The `ansible` provisioner: runs `ansible-playbook` on this machine against
 * the build's machine, as Packer does. With `use_proxy` (the default) Ansible
 * connects to an SSH proxy kiln serves on 127.0.0.1, which forwards to the
 * build's communicator; without it Ansible connects straight to the
 * machine's host and port with the build's private key. The inventory, the
 * key files and the proxy are resources of the run (see temp_file.ts and
 * runtime/local_listener.ts), and ansible-playbook's process group too, so a
 * `kill -9` leaves nothing `kiln cleanup` cannot find.
 */
import { join, resolve } from "node:path";
import type { ProvisionContext, ProvisionerPlugin } from "./provisioner.ts";
import { ansibleSchema } from "./ansible/config.ts";
import { listOption, stringOption } from "./ansible/file_checks.ts";
import { type LedgeredFile, tempDir, writeLedgeredFile } from "./ansible/temp_file.ts";
import { inventoryText } from "./ansible/inventory.ts";
import { ansibleEnv, playbookArgs, shownCommandLine } from "./ansible/command_line.ts";
import { type SshProxy, startSshProxy } from "./ansible/proxy.ts";
import { runGalaxy } from "./ansible/galaxy.ts";
import { runAnsibleCommand } from "./ansible/run_command.ts";
import { generateTemporaryKeyPair } from "../communicators/keys.ts";
import { listenerRecord, LOCAL_LISTENER } from "../runtime/local_listener.ts";

/** The name of the user running kiln (Packer's `user.Current()`). */
function currentUser(): string {
  const fromEnv = Deno.env.get("USER") ?? Deno.env.get("LOGNAME");
  if (fromEnv) return fromEnv;
  const out = new Deno.Command("id", { args: ["-un"], stdout: "piped", stderr: "null" })
    .outputSync();
  const name = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || name === "") {
    throw new Error("user: could not determine current user from environment.");
  }
  return name;
}

/** What the run set up for Ansible to connect with; `release()` undoes all of it. */
interface Connection {
  host: string;
  port: string | number;
  user: string;
  privateKeyFile?: string;
  files: LedgeredFile[];
  proxy?: SshProxy;
}

/** Whether Ansible can reach the machine itself (Packer falls back to the proxy otherwise). */
function wantProxy(ctx: ProvisionContext, config: Record<string, unknown>): boolean {
  if (config.use_proxy !== false) return true;
  if (!ctx.buildData.Host) {
    ctx.ui.error(
      "Warning: use_proxy is false, but instance does not have an IP address to give to " +
        "Ansible. Falling back to use localhost proxy.",
    );
    return true;
  }
  if (ctx.buildData.ConnType !== "ssh") {
    ctx.ui.error(
      "Warning: use_proxy is false, but kiln connects Ansible directly over ssh only. " +
        "Falling back to localhost proxy.",
    );
    return true;
  }
  return false;
}

async function setUpProxy(
  ctx: ProvisionContext,
  config: Record<string, unknown>,
  user: string,
  conn: Connection,
): Promise<void> {
  ctx.ui.message("Setting up proxy adapter for Ansible....");
  let authorizedKey: string;
  const authorizedFile = stringOption(config, "ssh_authorized_key_file");
  if (authorizedFile) {
    authorizedKey = (await Deno.readTextFile(authorizedFile)).trim();
  } else {
    // A one-time key pair: Ansible gets the private half as a 0600 file, by path.
    // Ed25519 (Packer: ECDSA): ssh2 signs and verifies it reliably under Deno, ECDSA not.
    const pair = generateTemporaryKeyPair("ed25519", undefined, "kiln-ansible");
    ctx.secrets.mask(pair.privateKey);
    const file = await writeLedgeredFile(
      ctx.ledger,
      tempDir(),
      "ansible-key",
      pair.privateKey,
      "ansible key",
    );
    conn.files.push(file);
    conn.privateKeyFile = file.path;
    authorizedKey = pair.publicKey;
  }
  const hostKeyFile = stringOption(config, "ssh_host_key_file");
  const hostKey = hostKeyFile
    ? await Deno.readTextFile(hostKeyFile)
    // Ed25519, not Packer's ECDSA: ssh2's server fails about half of its key exchanges
    // under Deno when it signs with a generated ECDSA host key.
    : generateTemporaryKeyPair("ed25519", undefined, "kiln-ansible-host").privateKey;
  // Write-ahead: the listener is about to exist (its port is known only once it listens).
  await ctx.ledger?.intent({ kind: LOCAL_LISTENER, token: `ansible proxy of pid ${Deno.pid}` });
  conn.proxy = await startSshProxy({
    comm: ctx.comm,
    user,
    authorizedKey,
    hostKey,
    sftpCommand: String(config.sftp_command),
    port: Number(config.local_port ?? 0),
    say: (m) => ctx.ui.say(m),
    signal: ctx.signal,
  });
  // Recorded once it listens: the listener dies with this process, so the
  // record is what lets `cleanup` confirm there is nothing left.
  await ctx.ledger?.created(listenerRecord("127.0.0.1", conn.proxy.port, "ansible proxy"));
  conn.host = "127.0.0.1";
  conn.port = conn.proxy.port;
}

async function connectDirectly(ctx: ProvisionContext, conn: Connection): Promise<void> {
  ctx.ui.message(
    "Not using Proxy adapter for Ansible run:\n\tUsing ssh keys from Packer communicator...",
  );
  const key = ctx.buildData.SSHPrivateKey;
  if (key) {
    const file = await writeLedgeredFile(ctx.ledger, tempDir(), "ansible-key", key, "ansible key");
    conn.files.push(file);
    conn.privateKeyFile = file.path;
  }
  conn.host = ctx.buildData.Host;
  conn.port = ctx.buildData.Port || 22;
}

async function release(ctx: ProvisionContext, conn: Connection): Promise<void> {
  if (conn.proxy) {
    await conn.proxy.close();
    await ctx.ledger?.deleted({ kind: LOCAL_LISTENER, id: `127.0.0.1:${conn.proxy.port}` });
  }
  for (const f of conn.files.reverse()) await f.remove();
}

async function provision(ctx: ProvisionContext, config: Record<string, unknown>): Promise<void> {
  ctx.ui.say("Provisioning with Ansible...");
  const proxied = wantProxy(ctx, config);
  const userGiven = stringOption(config, "user");
  const user = userGiven ?? (proxied ? currentUser() : ctx.buildData.User);
  const conn: Connection = { host: "", port: "", user, files: [] };
  try {
    if (proxied) await setUpProxy(ctx, config, user, conn);
    else await connectDirectly(ctx, conn);
    let inventory = stringOption(config, "inventory_file");
    if (inventory === undefined) {
      const file = await writeLedgeredFile(
        ctx.ledger,
        stringOption(config, "inventory_directory") ?? tempDir(),
        "packer-provisioner-ansible",
        inventoryText(
          { alias: String(config.host_alias ?? "default"), ...conn },
          listOption(config, "groups"),
          listOption(config, "empty_groups"),
        ),
        "ansible inventory",
      );
      if (config.keep_inventory_file === true) await file.keep();
      else conn.files.push(file);
      inventory = file.path;
    }
    const env = ansibleEnv(listOption(config, "ansible_env_vars"), {
      generatedHostKey: !stringOption(config, "ssh_host_key_file"),
      useSftp: config.use_sftp === true,
    });
    if (stringOption(config, "galaxy_file")) await runGalaxy(ctx, config, env);
    const command = String(config.command ?? "ansible-playbook");
    const extra = listOption(config, "extra_arguments");
    const args = playbookArgs({
      buildName: ctx.buildName,
      builderType: ctx.builderType,
      httpAddr: ctx.buildData.PackerHTTPAddr,
      connType: proxied ? "ssh" : ctx.buildData.ConnType,
      sshExtraArgs: listOption(config, "ansible_ssh_extra_args"),
      extraArguments: extra,
      privateKeyFile: conn.privateKeyFile,
      inventory,
      playbook: resolve(String(config.playbook_file)),
    });
    ctx.ui.say(`Executing Ansible: ${shownCommandLine(command, args, extra)}`);
    await runAnsibleCommand(ctx, [command, ...args], env, "ansible-playbook");
  } finally {
    await release(ctx, conn);
  }
}

/** The ansible provisioner plugin. */
export const ansibleProvisioner: ProvisionerPlugin = {
  type: "ansible",
  schema: { ...ansibleSchema, pluginType: "ansible" },
  needsCommunicator: true,
  localPaths(config) {
    // The generated inventory may go to inventory_directory instead of the run's temp dir.
    const dir = stringOption(config, "inventory_directory");
    return dir ? [join(dir, "packer-provisioner-ansible*")] : [];
  },
  async provision(ctx, config) {
    try {
      await provision(ctx, config);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw new Error(`Error executing Ansible: ${err instanceof Error ? err.message : err}`);
    }
  },
};
