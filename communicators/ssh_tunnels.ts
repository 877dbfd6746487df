/**
 * `ssh_local_tunnels` (-L: listen here, connect from the machine) and
 * `ssh_remote_tunnels` (-R: listen on the machine, connect from here) in
 * OpenSSH syntax `[bind_address:]port:host:hostport`.
 */
import net from "node:net";
import type { Client } from "ssh2";

/** A parsed tunnel spec. */
export interface TunnelSpec {
  bind?: string;
  port: number;
  host: string;
  hostPort: number;
}

function splitSpec(spec: string): string[] {
  const parts: string[] = [];
  const re = /\[([^\]]+)\]|([^:]+)/g;
  for (const m of spec.matchAll(re)) parts.push(m[1] ?? m[2]);
  return parts;
}

/** Parses OpenSSH tunnel syntax, with an error naming the option. */
export function parseTunnel(spec: string, option: string): TunnelSpec {
  const parts = splitSpec(spec);
  const nums = (s: string) => /^\d+$/.test(s) && Number(s) < 65536;
  if (parts.length === 3 && nums(parts[0]) && nums(parts[2])) {
    return { port: Number(parts[0]), host: parts[1], hostPort: Number(parts[2]) };
  }
  if (parts.length === 4 && nums(parts[1]) && nums(parts[3])) {
    return { bind: parts[0], port: Number(parts[1]), host: parts[2], hostPort: Number(parts[3]) };
  }
  throw new Error(`${option}: "${spec}" is not [bind_address:]port:host:hostport`);
}

/** Open tunnels; `close()` stops listening. */
export interface Tunnels {
  close(): Promise<void>;
}

function bridge(
  a: NodeJS.ReadWriteStream & { destroy(): void },
  b: NodeJS.ReadWriteStream & { destroy(): void },
) {
  a.pipe(b).pipe(a);
  a.on("error", () => b.destroy());
  b.on("error", () => a.destroy());
  a.on("close", () => b.destroy());
  b.on("close", () => a.destroy());
}

function startLocal(client: Client, spec: TunnelSpec): Promise<net.Server> {
  const server = net.createServer((sock) => {
    client.forwardOut(
      sock.remoteAddress ?? "127.0.0.1",
      sock.remotePort ?? 0,
      spec.host,
      spec.hostPort,
      (err: Error | undefined, channel: unknown) => {
        if (err) return sock.destroy();
        bridge(sock, channel as never);
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once(
      "error",
      (err) =>
        reject(new Error(`ssh_local_tunnels: cannot listen on ${spec.port}: ${err.message}`)),
    );
    server.listen(
      spec.port,
      spec.bind && spec.bind !== "localhost" ? spec.bind : "127.0.0.1",
      () => resolve(server),
    );
  });
}

function startRemote(client: Client, spec: TunnelSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    client.forwardIn(spec.bind ?? "localhost", spec.port, (err: Error | undefined) => {
      if (err) {
        reject(
          new Error(
            `ssh_remote_tunnels: the machine refused to listen on ${spec.port}: ${err.message}`,
          ),
        );
      } else resolve();
    });
  });
}

/** Opens every configured tunnel on `client`. */
export async function openTunnels(
  client: Client,
  local: string[],
  remote: string[],
): Promise<Tunnels> {
  const servers: net.Server[] = [];
  const remotes = remote.map((s) => parseTunnel(s, "ssh_remote_tunnels"));
  if (remotes.length > 0) {
    client.on(
      "tcp connection",
      (info: { destPort: number }, accept: () => unknown, reject: () => void) => {
        const spec = remotes.find((r) => r.port === info.destPort);
        if (!spec) return reject();
        const sock = net.connect({ host: spec.host, port: spec.hostPort });
        sock.once("connect", () => bridge(sock, accept() as never));
        sock.once("error", () => reject());
      },
    );
  }
  try {
    for (const spec of local.map((s) => parseTunnel(s, "ssh_local_tunnels"))) {
      servers.push(await startLocal(client, spec));
    }
    for (const spec of remotes) await startRemote(client, spec);
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  return {
    close: async () => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}
