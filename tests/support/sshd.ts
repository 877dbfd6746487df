/**
 * Starts a throwaway OpenSSH sshd on 127.0.0.1 for integration tests: fresh
 * host key, its own config, a free port, and an authorized_keys file the test
 * controls. Each instance is independent, so tests (and emulated EC2
 * instances) can run several at once.
 */

/** Options for a test sshd. */
export interface SshdOptions {
  /** Public keys (OpenSSH one-line format) allowed to log in. */
  authorizedKeys?: string[];
  /** Allow password and keyboard-interactive authentication. */
  passwordAuth?: boolean;
  /** Extra sshd_config lines (e.g. "AllowTcpForwarding yes"). */
  extraConfig?: string[];
  /** Fixed port (default: a free one). */
  port?: number;
  /** Authenticate passwords through PAM (needed for keyboard-interactive). */
  usePam?: boolean;
}

/**
 * Ensures a local login user with a known password exists (idempotent), for
 * password and keyboard-interactive tests. Tests run as root.
 */
export async function ensurePasswordUser(name: string, password: string): Promise<void> {
  const exists = await new Deno.Command("id", { args: [name], stdout: "null", stderr: "null" })
    .output();
  if (!exists.success) {
    const add = await new Deno.Command("useradd", {
      args: ["-m", "-s", "/bin/sh", name],
      stdout: "null",
      stderr: "piped",
    }).output();
    // A concurrent test may have created it meanwhile (exit 9: user exists).
    if (!add.success && add.code !== 9) {
      throw new Error(`useradd ${name}: ${new TextDecoder().decode(add.stderr)}`);
    }
  }
  const child = new Deno.Command("chpasswd", { stdin: "piped", stderr: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`${name}:${password}\n`));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error(`chpasswd: ${new TextDecoder().decode(out.stderr)}`);
}

/** A running sshd. */
export interface SshdHandle {
  host: "127.0.0.1";
  port: number;
  /** Directory holding the config, host key and authorized_keys. */
  dir: string;
  /** The login user: the user running the tests. */
  user: string;
  /** Path of the host's public key (for known_hosts checks). */
  hostPublicKeyPath: string;
  /** Replaces authorized_keys (takes effect for the next login). */
  setAuthorizedKeys(keys: string[]): Promise<void>;
  /** Stops sshd (existing sessions are cut too) — simulates a reboot when followed by start(). */
  stop(): Promise<void>;
  /** Starts sshd again on the same port with the same keys. */
  start(): Promise<void>;
  /** Everything sshd logged (-e), for debugging failed tests. */
  log(): string;
}

/** A port nobody listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Waits until something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}: ${err}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Generates an OpenSSH key pair with ssh-keygen; returns the private key path and public key line. */
export async function generateKey(
  dir: string,
  name: string,
  type: "ed25519" | "rsa" | "ecdsa" = "ed25519",
): Promise<{ privateKeyPath: string; publicKey: string }> {
  const privateKeyPath = `${dir}/${name}`;
  const args = ["-q", "-t", type, "-N", "", "-C", `kiln-test-${name}`, "-f", privateKeyPath];
  if (type === "rsa") args.push("-b", "2048");
  const out = await new Deno.Command("ssh-keygen", { args, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`ssh-keygen: ${new TextDecoder().decode(out.stderr)}`);
  return { privateKeyPath, publicKey: (await Deno.readTextFile(`${privateKeyPath}.pub`)).trim() };
}

/** Process ids below `pid` (children, grandchildren, ...), read from /proc. */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry.name)]);
    } catch { /* exited meanwhile */ }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const kid of parents.get(p) ?? []) {
      out.push(kid);
      walk(kid);
    }
  };
  walk(pid);
  return out;
}

function currentUser(): string {
  return Deno.env.get("USER") ?? (Deno.uid() === 0 ? "root" : "root");
}

/** Starts a test sshd; call `stop()` in a `finally`. */
export async function startSshd(options: SshdOptions = {}): Promise<SshdHandle> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-sshd-" });
  await Deno.mkdir("/run/sshd", { recursive: true }); // privilege separation dir sshd insists on
  const port = options.port ?? freePort();
  const hostKey = await generateKey(dir, "host_key", "ed25519");
  const authorizedKeysPath = `${dir}/authorized_keys`;
  await Deno.writeTextFile(authorizedKeysPath, (options.authorizedKeys ?? []).join("\n") + "\n");
  await Deno.chmod(authorizedKeysPath, 0o600);
  const passwords = options.passwordAuth ? "yes" : "no";
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKey.privateKeyPath}`,
    `AuthorizedKeysFile ${authorizedKeysPath}`,
    `PidFile ${dir}/sshd.pid`,
    "StrictModes no",
    "PermitRootLogin yes",
    `UsePAM ${options.usePam ? "yes" : "no"}`,
    `PasswordAuthentication ${passwords}`,
    `KbdInteractiveAuthentication ${passwords}`,
    "PubkeyAuthentication yes",
    "Subsystem sftp internal-sftp",
    "LogLevel VERBOSE",
    "MaxStartups 100:30:200",
    "MaxSessions 64",
    ...(options.extraConfig ?? []),
  ].join("\n") + "\n";
  await Deno.writeTextFile(`${dir}/sshd_config`, config);

  let child: Deno.ChildProcess | undefined;
  let logText = "";
  const decoder = new TextDecoder();

  const start = async () => {
    child = new Deno.Command("/usr/sbin/sshd", {
      args: ["-D", "-e", "-f", `${dir}/sshd_config`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const running = child;
    (async () => {
      for await (const chunk of running.stderr) logText += decoder.decode(chunk);
    })().catch(() => {});
    try {
      await waitForPort(port);
    } catch (err) {
      throw new Error(`sshd did not start: ${err}\n${logText}`);
    }
  };

  const stop = async () => {
    if (!child) return;
    const running = child;
    child = undefined;
    // Per-connection sshd processes retitle themselves ("sshd: root@notty"), so find
    // them by ancestry: a reboot cuts every session and kills what it was running.
    const sessions = await descendants(running.pid);
    try {
      running.kill("SIGTERM");
    } catch { /* already gone */ }
    await running.status;
    for (const pid of sessions) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    // sshd forks per connection; kill the session children that still hold the port.
    await new Deno.Command("pkill", { args: ["-f", `${dir}/sshd_config`] }).output().catch(
      () => {},
    );
  };

  await start();
  return {
    host: "127.0.0.1",
    port,
    dir,
    user: currentUser(),
    hostPublicKeyPath: `${hostKey.privateKeyPath}.pub`,
    setAuthorizedKeys: (keys) => Deno.writeTextFile(authorizedKeysPath, keys.join("\n") + "\n"),
    stop,
    start,
    log: () => logText,
  };
}
