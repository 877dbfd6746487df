/**
 * Establishing an SSH connection: the transport (direct TCP, SOCKS5 proxy or
 * a channel through a bastion), the handshake, and the wait-until-up loop
 * that `ssh_timeout` and `ssh_handshake_attempts` bound.
 */
import net from "node:net";
import type { Duplex } from "node:stream";
import { Client } from "ssh2";
import type { ConnectConfig } from "ssh2";
import { authHandler, authMethods } from "./ssh_auth.ts";
import { connectViaSocks5 } from "./ssh_proxy.ts";
import { installCertificateAuth } from "./ssh_cert.ts";
import type { SshCredentials, SshSettings } from "./ssh_settings.ts";
import { MAX_TIMER_MS, sleep } from "../runtime/sleep.ts";

/** A live SSH session and what it rides on. */
export interface SshLink {
  client: Client;
  /** Bastion connection carrying `client`, closed with it. */
  bastion?: Client;
  /** Rejects/settles when the link drops. */
  closed: Promise<void>;
  isOpen(): boolean;
  close(): void;
}

/**
 * Packer's default cipher set, AES-CTR first. ssh2 has no native binding
 * under Deno, so its chacha20-poly1305 creates three node:crypto ciphers per
 * packet and never calls final() on them;
 * Deno keeps each one's native context (about 260 bytes) for the life of the
 * process, which is 25 MiB per GiB uploaded, and inside a bastion channel that
 * path's output arrives garbled at the target (sshd answers UNIMPLEMENTED).
 * AES-GCM builds a cipher per packet too, and is a third slower here. AES-CTR
 * with an encrypt-then-MAC HMAC keeps one cipher per connection.
 */
const DEFAULT_CIPHERS = [
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
  "chacha20-poly1305@openssh.com",
];

/**
 * Batches the socket writes of one turn of the event loop into one.
 * ssh2 writes every packet in two or three pieces (length, ciphertext, MAC),
 * and under Deno each write is an operation of its own: a 64 MiB upload made
 * some 6000 of them. Corked until the turn ends, they leave as one writev.
 */
function coalesceWrites(sock: net.Socket): void {
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  let corked = false;
  const flush = () => {
    corked = false;
    sock.uncork();
  };
  sock.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      sock.cork();
      queueMicrotask(flush);
    }
    return write(...args);
  }) as typeof sock.write;
}

/** A failure to reach the port at all (retried until ssh_timeout). */
class TransportError extends Error {}

/** A failure after TCP connected: handshake or authentication. */
export class HandshakeError extends Error {}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("cancelled");
}

function tcpConnect(
  host: string,
  port: number,
  signal: AbortSignal,
  ms: number,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => fail(new Error(`timed out after ${ms} ms`)), ms);
    const onAbort = () => fail(abortError(signal));
    const fail = (err: Error) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      sock.destroy();
      reject(new TransportError(`dial tcp ${host}:${port}: ${err.message}`));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    sock.once("error", fail);
    sock.once("connect", () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      sock.off("error", fail);
      sock.setNoDelay(true);
      coalesceWrites(sock);
      resolve(sock);
    });
  });
}

function describeAuth(creds: SshCredentials): string {
  const ways = [];
  if (creds.agent) ways.push("agent");
  if (creds.certificate) ways.push("certificate");
  if (creds.privateKey) ways.push("publickey");
  if (creds.password !== undefined) {
    ways.push(creds.interactive ? "password, keyboard-interactive" : "password");
  }
  return ways.length ? ways.join(", ") : "none";
}

/** Runs the SSH handshake over `sock` and authenticates as `creds`. */
function handshake(
  sock: Duplex,
  where: string,
  creds: SshCredentials,
  settings: SshSettings,
  signal: AbortSignal,
  readyMs: number,
): Promise<Client> {
  const methods = authMethods(creds, where);
  const isTarget = creds === settings.auth;
  if (methods.length === 0) {
    return Promise.reject(
      new Error(
        `${where}: no authentication configured (ssh_password, ssh_private_key_file or ssh_agent_auth)`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const client = new Client();
    const onAbort = () => {
      client.end();
      sock.destroy();
      reject(abortError(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const settle = () => signal.removeEventListener("abort", onAbort);
    client.once("ready", () => {
      settle();
      resolve(client);
    });
    client.on("error", () => {/* later errors surface through "close" */});
    // Whether the server said anything: a port forward (qemu's user-mode network, a
    // bastion) accepts TCP before the guest's sshd listens, then resets or closes it.
    // That is the machine still booting, retried until ssh_timeout as Packer does,
    // not a handshake that counts against ssh_handshake_attempts.
    let heard = false;
    sock.once("data", () => heard = true);
    client.once("error", (err: Error & { level?: string }) => {
      settle();
      sock.destroy();
      const why = err.level === "client-authentication"
        ? `authentication as "${creds.username}" failed (offered: ${describeAuth(creds)})`
        : err.message;
      const failure = `ssh handshake with ${where}: ${why}`;
      reject(heard ? new HandshakeError(failure) : new TransportError(failure));
    });
    const config: ConnectConfig = {
      sock: sock as unknown as ConnectConfig["sock"],
      username: creds.username,
      authHandler: authHandler(methods) as ConnectConfig["authHandler"],
      readyTimeout: readyMs,
      keepaliveInterval: settings.keepAliveMs,
      keepaliveCountMax: 3,
      hostVerifier: () => true, // like Packer: the machine is brand new, its host key unknown
      agent: creds.agent ?? (isTarget ? settings.agentForwardSocket : undefined),
      agentForward: isTarget && settings.agentForwardSocket !== undefined,
    };
    const algorithms: Record<string, string[]> = {
      cipher: settings.ciphers ?? DEFAULT_CIPHERS,
    };
    if (settings.kex) algorithms.kex = settings.kex;
    if (Object.keys(algorithms).length) {
      config.algorithms = algorithms as ConnectConfig["algorithms"];
    }
    try {
      client.connect(config);
      if (creds.certificate) installCertificateAuth(client);
    } catch (err) {
      settle();
      sock.destroy();
      reject(new Error(`ssh options: ${(err as Error).message}`));
    }
  });
}

function forwardThrough(bastion: Client, host: string, port: number, ms: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new TransportError(`bastion did not open a channel to ${host}:${port} in ${ms} ms`)),
      ms,
    );
    bastion.forwardOut("127.0.0.1", 0, host, port, (err: Error | undefined, channel: unknown) => {
      clearTimeout(timer);
      if (err) {
        return reject(
          new TransportError(`bastion could not reach ${host}:${port}: ${err.message}`),
        );
      }
      resolve(channel as Duplex);
    });
  });
}

/** One connection attempt: transport, then handshake. */
export async function connectOnce(
  settings: SshSettings,
  signal: AbortSignal,
  readyMs = 20_000,
): Promise<SshLink> {
  let bastion: Client | undefined;
  let sock: Duplex;
  let rawSocket: net.Socket | undefined;
  if (settings.bastion) {
    const b = settings.bastion;
    const where = `bastion ${b.host}:${b.port}`;
    const bsock = settings.proxy
      ? await connectViaSocks5(settings.proxy, b.host, b.port, readyMs).catch((e) => {
        throw new TransportError(e.message);
      })
      : await tcpConnect(b.host, b.port, signal, readyMs);
    rawSocket = bsock;
    bastion = await handshake(bsock, where, b.auth, settings, signal, readyMs);
    try {
      sock = await forwardThrough(bastion, settings.host, settings.port, readyMs);
    } catch (err) {
      bastion.end();
      throw err;
    }
  } else if (settings.proxy) {
    rawSocket = await connectViaSocks5(settings.proxy, settings.host, settings.port, readyMs).catch(
      (e) => {
        throw new TransportError(e.message);
      },
    );
    sock = rawSocket;
  } else {
    rawSocket = await tcpConnect(settings.host, settings.port, signal, readyMs);
    sock = rawSocket;
  }
  let client: Client;
  try {
    client = await handshake(
      sock,
      `${settings.host}:${settings.port}`,
      settings.auth,
      settings,
      signal,
      readyMs,
    );
  } catch (err) {
    bastion?.end();
    throw err;
  }
  let open = true;
  const closed = new Promise<void>((resolve) => {
    client.once("close", () => {
      open = false;
      bastion?.end();
      resolve();
    });
  });
  client.on("error", () => {/* surfaced through "close" and failed operations */});
  bastion?.on("error", () => {});
  if (settings.readWriteTimeoutMs > 0 && rawSocket) {
    // Packer's read/write deadline: a connection idle that long is dead (e.g. after a reboot).
    // Node fires a longer idle timer at once; 24.8 days idle is as dead as longer.
    rawSocket.setTimeout(
      Math.min(settings.readWriteTimeoutMs, MAX_TIMER_MS),
      () => rawSocket?.destroy(),
    );
  }
  return {
    client,
    bastion,
    closed,
    isOpen: () => open,
    close: () => {
      client.end();
      bastion?.end();
    },
  };
}

/**
 * Connects, retrying while the machine is not up: until `ssh_timeout`
 * expires, and at most `ssh_handshake_attempts` failed handshakes.
 */
export async function connectWithRetry(
  settings: SshSettings,
  signal: AbortSignal,
  say: (message: string) => void = () => {},
): Promise<SshLink> {
  const deadline = Date.now() + settings.timeoutMs;
  let handshakes = 0;
  let delay = 100;
  let lastError = "";
  say("Waiting for SSH to become available...");
  while (true) {
    if (signal.aborted) throw abortError(signal);
    const left = deadline - Date.now();
    try {
      return await connectOnce(settings, signal, Math.max(1000, Math.min(left, 20_000)));
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      lastError = (err as Error).message;
      if (err instanceof HandshakeError) {
        handshakes++;
        if (handshakes >= settings.handshakeAttempts) {
          throw new Error(`${lastError} (after ${handshakes} handshake attempts)`);
        }
      } else if (!(err instanceof TransportError)) {
        throw err;
      }
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new Error(
        `timeout waiting for SSH on ${settings.host}:${settings.port} ` +
          `(ssh_timeout ${settings.timeoutMs} ms); last error: ${lastError}`,
      );
    }
    await sleep(Math.min(delay, remaining), signal);
    delay = Math.min(delay * 2, 2000);
  }
}
