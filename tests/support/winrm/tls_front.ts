/**
 * TLS in front of the plain test listener. Deno.serve's own TLS writes a
 * response's head and body as separate records, and Nagle holds the second
 * until the client's delayed ACK: 40 ms per WinRM request, an artifact no
 * real listener has (HTTP.sys does not). Terminating TLS here and piping to
 * the plain listener keeps each connection 1:1, so connection-bound NTLM
 * still works.
 */

/** A TLS listener forwarding every connection to 127.0.0.1:`innerPort`. */
export interface TlsFront {
  port: number;
  close(): Promise<void>;
}

/** Starts forwarding TLS on `port` (0: ephemeral) to the plain listener on `innerPort`. */
export function startTlsFront(
  port: number,
  innerPort: number,
  cert: string,
  key: string,
): TlsFront {
  const listener = Deno.listenTls({ hostname: "127.0.0.1", port, cert, key });
  const open = new Set<Deno.Conn>();
  const pipes: Promise<unknown>[] = [];
  const forward = async (outer: Deno.TlsConn) => {
    open.add(outer);
    let inner: Deno.TcpConn | undefined;
    try {
      inner = await Deno.connect({ hostname: "127.0.0.1", port: innerPort });
      inner.setNoDelay(true);
      open.add(inner);
      await Promise.allSettled([
        outer.readable.pipeTo(inner.writable),
        inner.readable.pipeTo(outer.writable),
      ]);
    } catch {
      /* a client that went away */
    } finally {
      for (const c of [outer, inner]) {
        if (!c) continue;
        open.delete(c);
        try {
          c.close();
        } catch { /* already closed by pipeTo */ }
      }
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) pipes.push(forward(conn));
    } catch { /* listener closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* gone */ }
      }
      await accepting;
      await Promise.allSettled(pipes);
    },
  };
}
