/**
 * A VNC (RFB) client that does what a boot command needs: connect, agree a
 * protocol version (3.8, 3.7 or 3.3), authenticate with None or VNC
 * Authentication, join the desktop as a shared client, and send key events.
 * Whatever the server sends afterwards is read and discarded so it can never
 * stall the connection. The password never appears in an error.
 */
import { vncAuthResponse } from "./vnc_auth.ts";

/** RFB protocol versions this client speaks. */
export type RfbVersion = "3.3" | "3.7" | "3.8";

/** How to reach and join a VNC server. */
export interface VncConnectOptions {
  host: string;
  port: number;
  /** For VNC Authentication; omit when the server needs none. */
  password?: string;
  /** Share the desktop with other clients (Packer does); false asks for exclusive access. */
  shared?: boolean;
  /** The highest version to offer; the server's own is used when lower. */
  maxVersion?: RfbVersion;
  /** Limit on connecting and the whole handshake, in milliseconds (default 10 s). */
  timeoutMs?: number;
}

/** A failure to reach, join or talk to a VNC server, in words a user can act on. */
export class VncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VncError";
  }
}

const securityNone = 1;
const securityVncAuth = 2;

/** A joined VNC session. */
export class VncClient {
  #conn: Deno.TcpConn;
  #failure: VncError | undefined;
  #closed = false;
  readonly #where: string;
  /** Ends when the server's stream ends or breaks. */
  readonly drained: Promise<void>;

  private constructor(
    conn: Deno.TcpConn,
    reader: ByteReader,
    where: string,
    readonly version: RfbVersion,
    readonly security: "none" | "vnc-auth",
    readonly width: number,
    readonly height: number,
    readonly bitsPerPixel: number,
    readonly desktopName: string,
  ) {
    this.#conn = conn;
    this.#where = where;
    this.drained = this.#drain(reader);
  }

  /** Connects, negotiates and joins the desktop. */
  static async connect(options: VncConnectOptions): Promise<VncClient> {
    const where = `${options.host}:${options.port}`;
    const timeoutMs = options.timeoutMs ?? 10_000;
    let timedOut = false;
    let conn: Deno.TcpConn | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        conn?.close();
      } catch { /* already closed */ }
    }, timeoutMs);
    try {
      conn = await Deno.connect({ hostname: options.host, port: options.port });
      if (timedOut) throw new Error("timed out");
      conn.setNoDelay(true);
      return await handshake(conn, where, options);
    } catch (e) {
      try {
        conn?.close();
      } catch { /* already closed */ }
      if (timedOut) {
        throw new VncError(
          `the VNC server at ${where} did not complete the handshake within ${timeoutMs} ms`,
        );
      }
      if (e instanceof VncError) throw e;
      throw new VncError(`cannot connect to the VNC server at ${where}: ${describe(e)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** @internal Used by the handshake once the session is joined. */
  static joined(
    conn: Deno.TcpConn,
    reader: ByteReader,
    where: string,
    version: RfbVersion,
    security: "none" | "vnc-auth",
    init: ServerInit,
  ): VncClient {
    return new VncClient(
      conn,
      reader,
      where,
      version,
      security,
      init.width,
      init.height,
      init.bitsPerPixel,
      init.name,
    );
  }

  /** Presses (`down`) or releases a key, named by its X11 keysym. */
  async keyEvent(keysym: number, down: boolean): Promise<void> {
    const message = new Uint8Array(8);
    const view = new DataView(message.buffer);
    view.setUint8(0, 4);
    view.setUint8(1, down ? 1 : 0);
    view.setUint32(4, keysym >>> 0);
    await this.#send(message);
  }

  /** Closes the connection; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  async #send(bytes: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw new VncError(`the VNC connection to ${this.#where} is closed`);
    try {
      await writeAll(this.#conn, bytes);
    } catch (e) {
      throw this.#failure ??
        new VncError(`the VNC connection to ${this.#where} broke: ${describe(e)}`);
    }
  }

  // Server messages are parsed only to find where the next one starts.
  async #drain(reader: ByteReader): Promise<void> {
    try {
      for (;;) {
        const type = (await reader.exact(1))[0];
        if (type === 0) {
          const header = await reader.exact(3);
          const rects = (header[1] << 8) | header[2];
          for (let i = 0; i < rects; i++) {
            const rect = new DataView((await reader.exact(12)).buffer);
            const w = rect.getUint16(4), h = rect.getUint16(6), encoding = rect.getInt32(8);
            if (encoding === 0) await reader.skip(w * h * (this.bitsPerPixel / 8));
            else if (encoding !== -223) {
              throw new VncError(
                `the VNC server sent a rectangle in encoding ${encoding}, which was not asked for`,
              );
            }
          }
        } else if (type === 1) {
          const header = new DataView((await reader.exact(5)).buffer);
          await reader.skip(header.getUint16(3) * 6);
        } else if (type === 2) {
          // Bell.
        } else if (type === 3) {
          const header = new DataView((await reader.exact(7)).buffer);
          await reader.skip(header.getUint32(3));
        } else {
          throw new VncError(`the VNC server sent message type ${type}, which RFB does not define`);
        }
      }
    } catch (e) {
      if (!this.#closed) {
        this.#failure = e instanceof VncError
          ? e
          : new VncError(`the VNC server at ${this.#where} closed the connection: ${describe(e)}`);
      }
    }
  }
}

interface ServerInit {
  width: number;
  height: number;
  bitsPerPixel: number;
  name: string;
}

async function handshake(
  conn: Deno.TcpConn,
  where: string,
  options: VncConnectOptions,
): Promise<VncClient> {
  const reader = new ByteReader(conn, where);
  const greeting = new TextDecoder("latin1").decode(await reader.exact(12));
  const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(greeting);
  if (!m) {
    throw new VncError(
      `${where} is not a VNC server (it greeted with ${JSON.stringify(greeting)})`,
    );
  }
  const version = chooseVersion(Number(m[1]), Number(m[2]), options.maxVersion ?? "3.8");
  await writeAll(conn, new TextEncoder().encode(`RFB 003.00${version.slice(2)}\n`));

  const security = version === "3.3"
    ? await securityOf33(reader, where)
    : await chooseSecurity(conn, reader, where, options.password !== undefined);
  if (security === securityVncAuth) {
    if (options.password === undefined) {
      throw new VncError(`the VNC server at ${where} requires a password and none was given`);
    }
    const challenge = await reader.exact(16);
    await writeAll(conn, vncAuthResponse(options.password, challenge));
  }
  // RFB 3.8 reports the outcome of every security type; earlier versions only of VNC Authentication.
  if (security === securityVncAuth || version === "3.8") {
    const result = new DataView((await reader.exact(4)).buffer).getUint32(0);
    if (result !== 0) {
      const reason = version === "3.8" ? await readReason(reader) : "";
      throw new VncError(
        `the VNC server at ${where} refused the ${
          security === securityVncAuth ? "password" : "connection"
        }${reason ? `: ${reason}` : ""}`,
      );
    }
  }

  await writeAll(conn, new Uint8Array([options.shared === false ? 0 : 1]));
  const init = new DataView((await reader.exact(24)).buffer);
  const nameLength = init.getUint32(20);
  const name = new TextDecoder().decode(await reader.exact(nameLength));
  // Only raw rectangles, so anything the server might send stays parseable.
  await writeAll(conn, new Uint8Array([2, 0, 0, 1, 0, 0, 0, 0]));
  return VncClient.joined(
    conn,
    reader,
    where,
    version,
    security === securityVncAuth ? "vnc-auth" : "none",
    {
      width: init.getUint16(0),
      height: init.getUint16(2),
      bitsPerPixel: init.getUint8(4),
      name,
    },
  );
}

/** The version to speak: the lower of the server's and ours; RFB says unknown ones are 3.3. */
export function chooseVersion(major: number, minor: number, max: RfbVersion): RfbVersion {
  let server: RfbVersion = "3.3";
  if (major > 3 || (major === 3 && minor >= 8)) server = "3.8";
  else if (major === 3 && minor === 7) server = "3.7";
  const order: RfbVersion[] = ["3.3", "3.7", "3.8"];
  return order[Math.min(order.indexOf(server), order.indexOf(max))];
}

async function securityOf33(reader: ByteReader, where: string): Promise<number> {
  const type = new DataView((await reader.exact(4)).buffer).getUint32(0);
  if (type === 0) {
    throw new VncError(
      `the VNC server at ${where} refused the connection: ${await readReason(reader)}`,
    );
  }
  if (type !== securityNone && type !== securityVncAuth) {
    throw new VncError(
      `the VNC server at ${where} requires security type ${type}, which kiln does not support`,
    );
  }
  return type;
}

async function chooseSecurity(
  conn: Deno.TcpConn,
  reader: ByteReader,
  where: string,
  havePassword: boolean,
): Promise<number> {
  const count = (await reader.exact(1))[0];
  if (count === 0) {
    throw new VncError(
      `the VNC server at ${where} refused the connection: ${await readReason(reader)}`,
    );
  }
  const offered = [...await reader.exact(count)];
  // With a password, prefer using it; without one, only None can work.
  const preference = havePassword
    ? [securityVncAuth, securityNone]
    : [securityNone, securityVncAuth];
  const chosen = preference.find((t) => offered.includes(t));
  if (chosen === undefined) {
    throw new VncError(
      `the VNC server at ${where} offers security types ${offered.join(", ")}; ` +
        `kiln supports 1 (None) and 2 (VNC Authentication)`,
    );
  }
  await writeAll(conn, new Uint8Array([chosen]));
  return chosen;
}

async function readReason(reader: ByteReader): Promise<string> {
  const length = new DataView((await reader.exact(4)).buffer).getUint32(0);
  return new TextDecoder().decode(await reader.exact(Math.min(length, 4096)));
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Exact-length reads over a connection's byte stream. */
export class ByteReader {
  #buffer = new Uint8Array(0);
  #conn: Deno.Conn;
  #where: string;

  constructor(conn: Deno.Conn, where: string) {
    this.#conn = conn;
    this.#where = where;
  }

  /** The next `n` bytes; fails when the stream ends first. */
  async exact(n: number): Promise<Uint8Array> {
    while (this.#buffer.length < n) await this.#fill();
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  /** Discards the next `n` bytes. */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#buffer.length === 0) await this.#fill();
      const take = Math.min(left, this.#buffer.length);
      this.#buffer = this.#buffer.subarray(take);
      left -= take;
    }
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.#conn.read(chunk);
    if (n === null) throw new VncError(`the VNC server at ${this.#where} closed the connection`);
    const merged = new Uint8Array(this.#buffer.length + n);
    merged.set(this.#buffer);
    merged.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = merged;
  }
}
