/**
 * The emulator's TCP front door: a loopback listener that relays each client
 * connection to the HTTP server behind it. It exists because an HTTP handler
 * cannot do what two faults need: drop the connection a request came on
 * (a lost response with no answer at all), and stop accepting connections
 * then accept again on the same port (an unreachable endpoint).
 */

interface Relay {
  client: Deno.Conn;
  server: Deno.Conn;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed by the other direction
  }
}

/** A listener on a fixed loopback port relaying to `127.0.0.1:backendPort`. */
export class FrontDoor {
  #listener: Deno.TcpListener | undefined;
  /** Ends when the accept loop has let go of the listener (only then is the port really closed). */
  #accepting: Promise<void> = Promise.resolve();
  /** Relays by the port of their connection to the backend (what the HTTP handler sees as the remote port). */
  #relays = new Map<number, Relay>();

  private constructor(readonly port: number, readonly backendPort: number) {}

  /** Opens the front door on `port` (0: a free one). */
  static open(backendPort: number, port = 0): FrontDoor {
    const listener = Deno.listen({ hostname: "127.0.0.1", port });
    const door = new FrontDoor(listener.addr.port, backendPort);
    door.#accepting = door.#accept(listener);
    return door;
  }

  /** True while the port accepts connections. */
  get open(): boolean {
    return this.#listener !== undefined;
  }

  /**
   * Stops accepting: new connections are refused and open ones are cut (but
   * the one from `spare`). Resolves once the port refuses: closing a listener
   * with an accept pending takes effect a tick later, and a connection made in
   * between would be reset instead of refused.
   */
  async shut(spare?: number): Promise<void> {
    this.#listener?.close();
    this.#listener = undefined;
    for (const [port, relay] of this.#relays) if (port !== spare) this.#cut(relay);
    await this.#accepting;
  }

  /** Accepts again, on the same port. */
  reopen(): void {
    if (this.#listener) return;
    this.#accepting = this.#accept(Deno.listen({ hostname: "127.0.0.1", port: this.port }));
  }

  /** Cuts the client connection whose relay reaches the backend from `backendSidePort`. */
  drop(backendSidePort: number): void {
    const relay = this.#relays.get(backendSidePort);
    if (relay) this.#cut(relay);
  }

  #cut(relay: Relay): void {
    closeQuietly(relay.client);
    closeQuietly(relay.server);
    this.#relays.delete((relay.server.localAddr as Deno.NetAddr).port);
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    this.#listener = listener;
    try {
      for await (const client of listener) void this.#relay(client);
    } catch {
      // the listener was closed by shut()
    }
  }

  async #relay(client: Deno.Conn): Promise<void> {
    let server: Deno.Conn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: this.backendPort });
    } catch {
      closeQuietly(client);
      return;
    }
    const relay = { client, server };
    this.#relays.set((server.localAddr as Deno.NetAddr).port, relay);
    // HTTP clients do not half-close, so the end of either direction ends both.
    await Promise.race([
      client.readable.pipeTo(server.writable, { preventClose: true }).catch(() => {}),
      server.readable.pipeTo(client.writable, { preventClose: true }).catch(() => {}),
    ]);
    this.#cut(relay);
  }
}
