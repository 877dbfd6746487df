/**
 * The ansible-playbook command line and environment, in Packer's order:
 * build facts as extra vars, `--ssh-extra-args` when a key file is used, the
 * user's extra_arguments, the key file, then `-i <inventory> <playbook>`.
 * Only a key file's *path* is ever on the command line. The line shown to
 * the user hides values of extra arguments whose name says password or
 * secret, as Packer does.
 */

/** What the command line is made of. */
export interface CommandLineParts {
  buildName: string;
  builderType: string;
  /** PackerHTTPAddr, when the builder serves HTTP. */
  httpAddr?: string;
  connType: string;
  sshExtraArgs: string[];
  extraArguments: string[];
  /** The private key file ansible uses (absent: its own defaults). */
  privateKeyFile?: string;
  inventory: string;
  playbook: string;
}

/** Packer's placeholder for builders that serve no HTTP. */
const NO_HTTP = "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER";

/** Whether `name` appears as an argument or as one side of a `k=v` argument. */
function hasArg(name: string, args: string[]): boolean {
  return args.some((a) => a.split("=").includes(name));
}

/** ansible-playbook's arguments. */
export function playbookArgs(p: CommandLineParts): string[] {
  const args: string[] = [];
  if (p.buildName !== "") args.push("-e", `packer_build_name=${JSON.stringify(p.buildName)}`);
  args.push("-e", `packer_builder_type=${p.builderType}`);
  if (p.httpAddr && p.httpAddr !== NO_HTTP) args.push("-e", `packer_http_addr=${p.httpAddr}`);
  if (p.connType === "ssh" && p.privateKeyFile) {
    const extra = p.sshExtraArgs.length > 0 ? p.sshExtraArgs : ["-o IdentitiesOnly=yes"];
    args.push("--ssh-extra-args", `'${extra.join("' '")}'`);
  }
  args.push(...p.extraArguments);
  if (p.privateKeyFile && !hasArg("ansible_password", args)) {
    args.push("-e", `ansible_ssh_private_key_file=${p.privateKeyFile}`);
  }
  args.push("-i", p.inventory, p.playbook);
  return args;
}

/** The command line as shown: secret-looking extra-argument values replaced by `*****`. */
export function shownCommandLine(command: string, args: string[], extra: string[]): string {
  let text = [command, ...args].join(" ");
  for (const arg of extra) {
    const eq = arg.indexOf("=");
    if (eq < 0) continue;
    const name = arg.slice(0, eq).toLowerCase();
    const value = arg.slice(eq + 1);
    if (value !== "" && (name.includes("password") || name.includes("secret"))) {
      text = text.split(value).join("*****");
    }
  }
  return text;
}

/**
 * ansible_env_vars as a map, plus Packer's additions: host key checking off
 * when the proxy's host key is a one-time key, scp when use_sftp is off. A
 * user's own setting of either wins.
 */
export function ansibleEnv(
  envVars: string[],
  opts: { generatedHostKey: boolean; useSftp: boolean },
): Record<string, string> {
  const env: Record<string, string> = {};
  if (opts.generatedHostKey) env.ANSIBLE_HOST_KEY_CHECKING = "False";
  if (!opts.useSftp) env.ANSIBLE_SCP_IF_SSH = "True";
  for (const entry of envVars) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}
