/**
 * A small SOCKS5 proxy (RFC 1928 CONNECT, optional RFC 1929 username and
 * password) on 127.0.0.1 for the ssh_proxy_* tests. It only forwards to
 * loopback addresses and counts the connections it relayed.
 */

/** Options for the test proxy. */
export interface Socks5Options {
  username?: string;
  password?: string;
}

/** A running proxy. */
export interface Socks5Handle {
  port: number;
  /** Connections relayed so far. */
  relayed(): number;
  stop(): Promise<void>;
}

class Reader {
  #buf = new Uint8Array(0);
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  constructor(conn: Deno.Conn) {
    this.#reader = conn.readable.getReader();
  }
  async take(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) {
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("client went away");
      const merged = new Uint8Array(this.#buf.length + value.length);
      merged.set(this.#buf);
      merged.set(value, this.#buf.length);
      this.#buf = merged;
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }
  /** Hands back unread bytes and the reader, for relaying. */
  release(): { rest: Uint8Array; reader: ReadableStreamDefaultReader<Uint8Array> } {
    return { rest: this.#buf, reader: this.#reader };
  }
}

async function handle(conn: Deno.Conn, opts: Socks5Options, onRelay: () => void): Promise<void> {
  const r = new Reader(conn);
  const w = conn.writable.getWriter();
  const [, nMethods] = await r.take(2);
  const methods = await r.take(nMethods);
  const wantAuth = opts.username !== undefined;
  const method = wantAuth ? 2 : 0;
  if (!methods.includes(method)) {
    await w.write(new Uint8Array([5, 0xff]));
    return;
  }
  await w.write(new Uint8Array([5, method]));
  if (wantAuth) {
    const [, ulen] = await r.take(2);
    const user = new TextDecoder().decode(await r.take(ulen));
    const [plen] = await r.take(1);
    const pass = new TextDecoder().decode(await r.take(plen));
    const ok = user === opts.username && pass === opts.password;
    await w.write(new Uint8Array([1, ok ? 0 : 1]));
    if (!ok) return;
  }
  const [, cmd, , atyp] = await r.take(4);
  let host: string;
  if (atyp === 1) host = [...await r.take(4)].join(".");
  else if (atyp === 3) host = new TextDecoder().decode(await r.take((await r.take(1))[0]));
  else throw new Error("address type not supported by the test proxy");
  const portBytes = await r.take(2);
  const port = (portBytes[0] << 8) | portBytes[1];
  const reply = (code: number) => w.write(new Uint8Array([5, code, 0, 1, 127, 0, 0, 1, 0, 0]));
  if (cmd !== 1 || !(host === "localhost" || host.startsWith("127."))) {
    await reply(2); // only loopback, ever
    return;
  }
  let upstream: Deno.Conn;
  try {
    upstream = await Deno.connect({ hostname: host, port });
  } catch {
    await reply(5);
    return;
  }
  await reply(0);
  onRelay();
  const { rest, reader } = r.release();
  w.releaseLock();
  const up = upstream.writable.getWriter();
  if (rest.length) await up.write(rest);
  up.releaseLock();
  const toUpstream = new ReadableStream<Uint8Array>({
    async pull(c) {
      const { value, done } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
  });
  await Promise.allSettled([
    toUpstream.pipeTo(upstream.writable),
    upstream.readable.pipeTo(conn.writable),
  ]);
  try {
    upstream.close();
  } catch { /* closed by the pipe */ }
}

/** Starts the proxy on a free loopback port. */
export function startSocks5(opts: Socks5Options = {}): Socks5Handle {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let relayed = 0;
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      const task = handle(conn, opts, () => relayed++).catch(() => {}).finally(() => {
        conns.delete(conn);
        try {
          conn.close();
        } catch { /* closed by the relay */ }
      });
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    relayed: () => relayed,
    stop: async () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* gone */ }
      }
      await loop;
      await Promise.allSettled([...tasks]);
    },
  };
}
