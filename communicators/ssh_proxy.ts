/**
 * SOCKS5 client (RFC 1928, with RFC 1929 username/password) used by
 * `ssh_proxy_*`: returns a TCP socket already connected through the proxy to
 * the SSH target, which ssh2 then speaks SSH over.
 */
import { Buffer } from "node:buffer";
import net from "node:net";
import type { SocksProxy } from "./ssh_settings.ts";

function readExactly(sock: net.Socket, n: number, pending: { buf: Buffer }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tryTake = () => {
      if (pending.buf.length < n) return false;
      const out = pending.buf.subarray(0, n);
      pending.buf = pending.buf.subarray(n);
      cleanup();
      resolve(out);
      return true;
    };
    const onData = (chunk: Buffer) => {
      pending.buf = Buffer.concat([pending.buf, chunk]);
      tryTake();
    };
    const onEnd = () => {
      cleanup();
      reject(new Error("the SOCKS proxy closed the connection"));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      sock.off("data", onData);
      sock.off("close", onEnd);
      sock.off("error", onError);
    };
    if (tryTake()) return;
    sock.on("data", onData);
    sock.on("close", onEnd);
    sock.on("error", onError);
  });
}

const REPLIES: Record<number, string> = {
  1: "general failure",
  2: "connection not allowed by ruleset",
  3: "network unreachable",
  4: "host unreachable",
  5: "connection refused",
  6: "TTL expired",
  7: "command not supported",
  8: "address type not supported",
};

/** Connects to `host:port` through `proxy`; the socket is ready for SSH. */
export async function connectViaSocks5(
  proxy: SocksProxy,
  host: string,
  port: number,
  timeoutMs = 20_000,
): Promise<net.Socket> {
  const sock = net.connect({ host: proxy.host, port: proxy.port });
  // A proxy that accepts but never answers must not stall the wait-for-SSH loop.
  const timer = setTimeout(
    () => sock.destroy(new Error(`no answer within ${timeoutMs} ms`)),
    timeoutMs,
  );
  sock.pause();
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("close", () => clearTimeout(timer));
    sock.once(
      "error",
      (err) => reject(new Error(`SOCKS proxy ${proxy.host}:${proxy.port}: ${err.message}`)),
    );
  });
  sock.resume();
  const pending = { buf: Buffer.alloc(0) };
  try {
    const useAuth = proxy.username !== undefined;
    sock.write(Buffer.from(useAuth ? [5, 2, 0, 2] : [5, 1, 0]));
    const [version, method] = await readExactly(sock, 2, pending);
    if (version !== 5) throw new Error("the proxy does not speak SOCKS5");
    if (method === 2) {
      const user = Buffer.from(proxy.username ?? "");
      const pass = Buffer.from(proxy.password ?? "");
      sock.write(
        Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]),
      );
      const [, status] = await readExactly(sock, 2, pending);
      if (status !== 0) throw new Error("the SOCKS proxy rejected ssh_proxy_username/password");
    } else if (method !== 0) {
      throw new Error(
        useAuth
          ? "the SOCKS proxy accepts none of the offered authentication methods"
          : "the SOCKS proxy requires authentication: set ssh_proxy_username/ssh_proxy_password",
      );
    }
    const name = Buffer.from(host);
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16BE(port);
    sock.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, portBytes]));
    const head = await readExactly(sock, 4, pending);
    if (head[1] !== 0) {
      throw new Error(
        `the SOCKS proxy could not reach ${host}:${port}: ${REPLIES[head[1]] ?? head[1]}`,
      );
    }
    const addrLen = head[3] === 1
      ? 4
      : head[3] === 4
      ? 16
      : (await readExactly(sock, 1, pending))[0];
    await readExactly(sock, addrLen + 2, pending);
    if (pending.buf.length > 0) sock.unshift(pending.buf);
    clearTimeout(timer);
    return sock;
  } catch (err) {
    clearTimeout(timer);
    sock.destroy();
    throw err;
  }
}
