/**
 * Starts a throwaway OpenSSH sshd on 127.0.0.1 for integration tests: fresh
 * host key, its own config, a free port, and an authorized_keys file the test
 * controls. Each instance is independent, so tests (and emulated EC2
 * instances) can run several at once; with `privateTmp` an sshd and its
 * sessions get a /tmp of their own, as separate machines would.
 *
 * Sessions start with `SHLVL=1`. Debian's bash reads ~/.bashrc for a command
 * sshd runs only when it believes it is the top-level shell (SHLVL below 2
 * after its own increment), and root's ~/.bashrc here runs `pyenv init`:
 * 0.2-0.6 s per remote command that no test is about. The command itself still
 * runs through the login user's shell exactly as sshd would run it.
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
  /**
   * Environment of every session (sshd `SetEnv`), on top of `SHLVL=1`. Use
   * this, never a `SetEnv` line in `extraConfig`: sshd keeps only the first
   * `SetEnv` line and silently ignores the others.
   */
  env?: Record<string, string>;
  /**
   * A host directory sshd and its sessions see as /tmp: sshd runs in a mount
   * namespace of its own with this directory bind-mounted on /tmp (root only).
   * Everything else the sessions need must then live outside /tmp.
   */
  privateTmp?: string;
  /** Where to create the sshd's own directory (default: the system temp dir). */
  parentDir?: string;
  /**
   * Offer the `sftp` subsystem (default true, as internal-sftp: no shell
   * starts for it). False: sshd refuses SFTP, as minimal images do.
   */
  sftp?: boolean;
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
  /** The host directory the sessions see as /tmp, when started with `privateTmp`. */
  privateTmp?: string;
  /**
   * With `privateTmp`: the mount namespace (`mnt:[inode]`) sshd runs in, while
   * it runs (once stopped, the kernel may give its number to a new namespace).
   */
  mountNamespace(): string | undefined;
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

/** The one `SetEnv` line: sshd keeps the first `SetEnv` line and ignores the rest. */
function setEnvLine(env: Record<string, string>): string {
  const pairs = Object.entries({ SHLVL: "1", ...env }).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /[\s"'\\]/.test(value)) {
      throw new Error(
        `test sshd: cannot pass ${name}=${value} through SetEnv (a name, and a value without ` +
          "spaces, quotes or backslashes, expected)",
      );
    }
    return `${name}=${value}`;
  });
  return `SetEnv ${pairs.join(" ")}`;
}

/** The mount namespace of a process (`mnt:[inode]`), undefined once it is gone or a zombie. */
async function mountNamespaceOf(pid: number | "self"): Promise<string | undefined> {
  try {
    return await Deno.readLink(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Every live process in mount namespace `ns`. */
export async function processesIn(ns: string): Promise<number[]> {
  const out: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (/^\d+$/.test(entry.name) && await mountNamespaceOf(Number(entry.name)) === ns) {
      out.push(Number(entry.name));
    }
  }
  return out;
}

/**
 * Kills whatever still runs in an sshd's private mount namespace (a session's
 * daemonized child escapes the process tree, not the namespace) and waits
 * until it is empty, so its /tmp bind mount is gone with it. The caller must
 * hold the namespace open: the kernel hands a freed namespace's number to the
 * next new one at once, and this would then kill another sshd.
 */
async function emptyNamespace(ns: string): Promise<void> {
  for (let round = 0; round < 200; round++) {
    const left = await processesIn(ns);
    if (left.length === 0) return;
    for (const pid of left) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* exited meanwhile */ }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`test sshd: processes still run in its mount namespace ${ns}`);
}

/** Starts a test sshd; call `stop()` in a `finally`. */
export async function startSshd(options: SshdOptions = {}): Promise<SshdHandle> {
  const extra = options.extraConfig ?? [];
  if (extra.some((line) => /^\s*SetEnv\b/i.test(line))) {
    throw new Error("test sshd: pass session variables as `env`, not as a SetEnv line");
  }
  const dir = await Deno.makeTempDir({ prefix: "kiln-sshd-", dir: options.parentDir });
  if (options.privateTmp && (await Deno.realPath(dir) + "/").startsWith("/tmp/")) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(
      `test sshd: with a private /tmp its own directory must live outside /tmp (parentDir), ` +
        `got ${dir}`,
    );
  }
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
    ...(options.sftp === false ? [] : ["Subsystem sftp internal-sftp"]),
    "LogLevel VERBOSE",
    "MaxStartups 100:30:200",
    "MaxSessions 64",
    setEnvLine(options.env ?? {}),
    ...extra,
  ].join("\n") + "\n";
  await Deno.writeTextFile(`${dir}/sshd_config`, config);

  const sshdArgs = ["-D", "-e", "-f", `${dir}/sshd_config`];
  // unshare execs sh, which execs sshd: the child's pid stays sshd's own.
  // Slave propagation: host mounts still reach the namespace, its /tmp never
  // reaches the host.
  const command = options.privateTmp
    ? new Deno.Command("unshare", {
      args: [
        "--mount",
        "--propagation",
        "slave",
        "--",
        "/bin/sh",
        "-c",
        'mount --bind "$1" /tmp && shift && exec /usr/sbin/sshd "$@"',
        "kiln-test-sshd",
        options.privateTmp,
        ...sshdArgs,
      ],
      stdout: "null",
      stderr: "piped",
    })
    : new Deno.Command("/usr/sbin/sshd", { args: sshdArgs, stdout: "null", stderr: "piped" });

  let child: Deno.ChildProcess | undefined;
  let namespace: string | undefined;
  // Keeps the namespace, and so its number, ours until stop() has emptied it.
  let namespacePin: Deno.FsFile | undefined;
  let logText = "";
  const decoder = new TextDecoder();

  const start = async () => {
    child = command.spawn();
    const running = child;
    (async () => {
      for await (const chunk of running.stderr) logText += decoder.decode(chunk);
    })().catch(() => {});
    const exited = running.status.then((s) => {
      throw new Error(`sshd exited with code ${s.code} before listening`);
    });
    try {
      await Promise.race([waitForPort(port), exited]);
    } catch (err) {
      const hint = options.privateTmp
        ? " (a private /tmp needs root: unshare --mount and mount --bind)"
        : "";
      throw new Error(`sshd did not start${hint}: ${err}\n${logText}`);
    } finally {
      exited.catch(() => {});
    }
    if (options.privateTmp) {
      try {
        namespacePin = await Deno.open(`/proc/${running.pid}/ns/mnt`);
        namespace = await mountNamespaceOf(running.pid);
      } catch { /* checked below */ }
      if (!namespace || namespace === await mountNamespaceOf("self")) {
        running.kill("SIGKILL");
        await running.status;
        namespacePin?.close();
        namespacePin = namespace = undefined;
        throw new Error(`test sshd: not running in a mount namespace of its own\n${logText}`);
      }
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
    try {
      if (namespace) await emptyNamespace(namespace);
    } finally {
      namespacePin?.close();
      namespacePin = namespace = undefined;
    }
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
    privateTmp: options.privateTmp,
    mountNamespace: () => namespace,
  };
}
