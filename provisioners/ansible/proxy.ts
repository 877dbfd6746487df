/**
 * The SSH endpoint Ansible talks to when `use_proxy` is on (Packer's
 * adapter): an SSH server on 127.0.0.1 that lets exactly one user with
 * exactly one public key in, and forwards what Ansible asks for to the
 * build's communicator — every `exec` (commands, and `scp -t`/`-f` in
 * legacy scp mode) runs there with stdin, stdout, stderr and the exit status
 * carried both ways, and the `sftp` subsystem runs `sftp_command` there the
 * same way. So Ansible reaches machines it has no route to, through the
 * connection the build already holds.
 */
import { type Connection, type ParsedKey, Server, type ServerChannel, utils } from "ssh2";
// deno-lint-ignore no-explicit-any
type Accept = (...args: any[]) => any;

/** What ssh2 hands an `authentication` listener (the parts used here). */
interface AuthContext {
  method: string;
  username: string;
  key: { algo: string; data: Uint8Array };
  signature?: Uint8Array;
  blob?: Uint8Array;
  hashAlgo?: string;
  accept(): void;
  reject(methods?: string[]): void;
}

/** What ssh2 hands a `session` listener's accept (the parts used here). */
interface Session {
  on(event: "pty" | "env", listener: (accept?: Accept) => void): void;
  on(
    event: "exec",
    listener: (accept: () => ServerChannel, reject: Accept, info: { command: string }) => void,
  ): void;
  on(
    event: "subsystem",
    listener: (accept: () => ServerChannel, reject: Accept, info: { name: string }) => void,
  ): void;
}
import { timingSafeEqual } from "node:crypto";
import type { Communicator } from "../../communicators/communicator.ts";

/** What the proxy serves. */
export interface ProxyOptions {
  comm: Communicator;
  /** The only user name accepted. */
  user: string;
  /** The only public key accepted (authorized_keys line). */
  authorizedKey: string;
  /** The server's private host key (PEM or OpenSSH format). */
  hostKey: string;
  /** Run on the machine for the sftp subsystem. */
  sftpCommand: string;
  /** First port to try (0: the system chooses; else ten ports from here, as Packer). */
  port: number;
  /** Receives the proxy's remarks (a port that was taken). */
  say(message: string): void;
  /** Aborting stops every forwarded command. */
  signal: AbortSignal;
}

/** A running proxy. */
export interface SshProxy {
  port: number;
  /** Stops listening and cuts every session (idempotent). */
  close(): Promise<void>;
}

function parseOne(text: string, what: string): ParsedKey {
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) throw new Error(`${what}: ${parsed.message}`);
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

/** Starts the proxy; resolves once it listens. */
export async function startSshProxy(opts: ProxyOptions): Promise<SshProxy> {
  const allowed = parseOne(opts.authorizedKey, "the authorized key");
  const allowedBlob = allowed.getPublicSSH();
  const connections = new Set<Connection>();
  // No compression: Ansible's default `ssh -C` would negotiate zlib, whose stream ssh2
  // cannot keep up under Deno (the session dies after auth); "none" is always acceptable.
  // AES-CTR only: OpenSSH prefers chacha20-poly1305, which ssh2 under Deno implements
  // with a leaking cipher per packet (see communicators/ssh_connect.ts); the client's
  // order wins, so the server must not offer it.
  const config = {
    hostKeys: [opts.hostKey],
    algorithms: {
      compress: ["none"],
      cipher: ["aes128-ctr", "aes192-ctr", "aes256-ctr"],
      hmac: ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256"],
    },
  };
  // deno-lint-ignore no-explicit-any
  const server = new Server(config as any, (client: Connection) => {
    connections.add(client);
    client.on("close", () => connections.delete(client));
    client.on("error", () => {}); // a client that goes away mid-handshake is not kiln's failure
    client.on("authentication", (auth: AuthContext) => {
      if (auth.method !== "publickey" || auth.username !== opts.user) {
        return auth.reject(["publickey"]);
      }
      const blob = auth.key.data;
      const same = auth.key.algo === allowed.type && blob.length === allowedBlob.length &&
        timingSafeEqual(blob, allowedBlob);
      if (!same) return auth.reject(["publickey"]);
      // Without a signature the client only asks whether the key would do.
      if (!auth.signature) return auth.accept();
      // deno-lint-ignore no-explicit-any
      const ok = (allowed as any).verify(auth.blob, auth.signature, auth.hashAlgo);
      return ok === true ? auth.accept() : auth.reject(["publickey"]);
    });
    client.on("ready", () => {
      client.on("session", (acceptSession: () => Session) => {
        const session = acceptSession();
        // Ansible asks for neither, but OpenSSH may: agree and carry on without them.
        session.on("pty", (accept) => accept?.());
        session.on("env", (accept) => accept?.());
        session.on("exec", (accept, _reject, info) => {
          forward(opts, accept(), info.command);
        });
        session.on("subsystem", (accept, reject, info) => {
          if (info.name !== "sftp") return reject();
          forward(opts, accept(), opts.sftpCommand);
        });
      });
    });
  });
  const port = await listen(server, opts);
  let closed: Promise<void> | undefined;
  return {
    port,
    close: () =>
      closed ??= new Promise<void>((resolve) => {
        for (const c of connections) c.end();
        server.close(() => resolve());
      }),
  };
}

/** Listens on the first free port of Packer's range: `port` and the nine after it, or any. */
async function listen(server: Server, opts: ProxyOptions): Promise<number> {
  const tries = opts.port === 0 ? 1 : 10;
  for (let i = 0; i < tries; i++) {
    const port = opts.port === 0 ? 0 : opts.port + i;
    try {
      return await new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          server.off("error", reject);
          const addr = server.address();
          resolve(typeof addr === "object" && addr ? addr.port : port);
        });
      });
    } catch (err) {
      opts.say(`listen tcp 127.0.0.1:${port}: ${err instanceof Error ? err.message : err}`);
    }
  }
  throw new Error("Error setting up SSH proxy connection");
}

/** Runs `command` on the machine with the channel as its stdin, stdout and stderr. */
function forward(opts: ProxyOptions, channel: ServerChannel, command: string): void {
  const stdin = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const end = () => {
        if (open) controller.close();
        open = false;
      };
      channel.on("data", (chunk: Uint8Array) => {
        if (open) controller.enqueue(new Uint8Array(chunk));
      });
      channel.on("end", end);
      channel.on("close", end);
    },
  });
  // Ansible giving up on a command (its channel closed first) stops it on the machine too.
  const gone = new AbortController();
  channel.on("close", () => gone.abort(new Error("the proxied channel closed")));
  opts.comm.start({
    command,
    stdin,
    stdout: (chunk) => channel.write(chunk),
    stderr: (chunk) => channel.stderr.write(chunk),
    signal: AbortSignal.any([opts.signal, gone.signal]),
  }).then(
    (result) => {
      channel.exit(result.exitStatus < 0 ? 255 : result.exitStatus);
      channel.end();
    },
    (err) => {
      if (gone.signal.aborted) return; // nobody is listening any more
      channel.stderr.write(`kiln proxy: ${err instanceof Error ? err.message : err}\n`);
      channel.exit(255);
      channel.end();
    },
  );
}
