/**
 * One persistent HTTP/1.1 connection for WinRM. fetch() cannot be used:
 * NTLM authenticates a TCP connection, not a request, so the handshake and
 * the requests after it must share a socket kiln controls; and
 * `winrm_insecure` must skip certificate checks for this peer only, which
 * node:tls allows per socket.
 */
import net from "node:net";
import tls from "node:tls";
import { Buffer } from "node:buffer";

/** Where to connect and how. */
export interface HttpTarget {
  host: string;
  port: number;
  tls: boolean;
  /** Skip the certificate chain and host name checks. */
  insecure: boolean;
}

/** A response, headers by lower-case name (repeated headers kept in order). */
export interface HttpResponse {
  status: number;
  headers: Map<string, string[]>;
  body: Uint8Array;
}

/** The peer could not be reached, or dropped the connection (retry later: it may be booting). */
export class UnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnreachableError";
  }
}

/** The peer's TLS certificate was refused: retrying cannot help. */
export class CertificateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CertificateError";
  }
}

const CRLF2 = Buffer.from("\r\n\r\n");

function isIp(host: string): boolean {
  return net.isIP(host) !== 0;
}

/** A keep-alive connection carrying one request at a time. */
export class HttpConnection {
  #sock: net.Socket;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #wake: (() => void) | undefined;
  #error: Error | undefined;
  #ended = false;
  #busy = false;
  /** Set by the auth layer once this connection is authenticated (NTLM). */
  authenticated = false;

  private constructor(sock: net.Socket) {
    this.#sock = sock;
    sock.on("data", (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      this.#notify();
    });
    sock.on("error", (err: Error) => {
      this.#error ??= err;
      this.#notify();
    });
    sock.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  /** Opens a connection; rejects with UnreachableError or CertificateError. */
  static open(
    target: HttpTarget,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<HttpConnection> {
    return new Promise((resolve, reject) => {
      const where = `${target.host}:${target.port}`;
      const sock = target.tls
        ? tls.connect({
          host: target.host,
          port: target.port,
          servername: isIp(target.host) ? undefined : target.host,
          rejectUnauthorized: !target.insecure,
        })
        : net.connect({ host: target.host, port: target.port });
      const timer = setTimeout(
        () => fail(new UnreachableError(`dial tcp ${where}: timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onAbort = () => fail(signal?.reason ?? new Error("cancelled"));
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        sock.off("error", onError);
      };
      const fail = (err: Error) => {
        cleanup();
        sock.destroy();
        reject(err);
      };
      const onError = (err: Error & { code?: string }) => {
        const code = err.code ?? "";
        if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|HOSTNAME|ALTNAME/i.test(code + err.message)) {
          fail(
            new CertificateError(
              `TLS certificate of ${where} refused: ${err.message}; ` +
                `set "winrm_insecure": true to skip certificate verification`,
            ),
          );
        } else fail(new UnreachableError(`dial tcp ${where}: ${err.message}`));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      sock.on("error", onError);
      sock.once(target.tls ? "secureConnect" : "connect", () => {
        cleanup();
        sock.setNoDelay(true);
        resolve(new HttpConnection(sock));
      });
    });
  }

  /** True while the socket can carry another request. */
  get usable(): boolean {
    return !this.#ended && !this.#error && !this.#sock.destroyed && !this.#busy;
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #more(what: string): Promise<void> {
    if (this.#error) throw new UnreachableError(`${what}: ${this.#error.message}`);
    if (this.#ended) throw new UnreachableError(`${what}: connection closed by the server`);
    await new Promise<void>((resolve) => this.#wake = resolve);
  }

  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length ? [rest] : [];
    this.#buffered = rest.length;
    return out;
  }

  #peekAll(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  async #readHead(what: string): Promise<Buffer> {
    while (true) {
      const end = this.#peekAll().indexOf(CRLF2);
      if (end >= 0) return this.#take(end + 4);
      if (this.#buffered > 64 * 1024) throw new Error(`${what}: response headers too large`);
      await this.#more(what);
    }
  }

  async #readExactly(n: number, what: string): Promise<Buffer> {
    while (this.#buffered < n) await this.#more(what);
    return this.#take(n);
  }

  async #readLine(what: string): Promise<string> {
    while (true) {
      const i = this.#peekAll().indexOf("\r\n");
      if (i >= 0) return this.#take(i + 2).toString("latin1").trim();
      await this.#more(what);
    }
  }

  async #readChunked(what: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    while (true) {
      const size = parseInt((await this.#readLine(what)).split(";")[0], 16);
      if (!Number.isFinite(size)) throw new Error(`${what}: bad chunked encoding`);
      if (size === 0) {
        while ((await this.#readLine(what)) !== "") { /* trailers */ }
        return Buffer.concat(parts);
      }
      parts.push(await this.#readExactly(size, what));
      await this.#readExactly(2, what);
    }
  }

  /** Sends one request and reads the whole response. */
  async request(
    path: string,
    headers: Record<string, string>,
    body: Uint8Array,
  ): Promise<HttpResponse> {
    if (this.#busy) throw new Error("HttpConnection: one request at a time");
    this.#busy = true;
    const what = "WinRM request";
    try {
      const lines = [`POST ${path} HTTP/1.1`];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      lines.push(`Content-Length: ${body.length}`, "", "");
      // One write: a head and a body written apart meet Nagle and delayed ACKs (40 ms a
      // request over node:tls, whose setNoDelay does not reach the TCP socket).
      this.#sock.write(Buffer.concat([Buffer.from(lines.join("\r\n"), "latin1"), body]));
      const head = (await this.#readHead(what)).toString("latin1").split("\r\n");
      const status = Number(head[0].split(" ")[1]);
      if (!Number.isInteger(status)) throw new Error(`${what}: bad status line "${head[0]}"`);
      const map = new Map<string, string[]>();
      for (const line of head.slice(1)) {
        const i = line.indexOf(":");
        if (i <= 0) continue;
        const key = line.slice(0, i).trim().toLowerCase();
        map.set(key, [...(map.get(key) ?? []), line.slice(i + 1).trim()]);
      }
      let data: Buffer;
      if ((map.get("transfer-encoding")?.[0] ?? "").toLowerCase().includes("chunked")) {
        data = await this.#readChunked(what);
      } else {
        data = await this.#readExactly(Number(map.get("content-length")?.[0] ?? 0), what);
      }
      if ((map.get("connection")?.[0] ?? "").toLowerCase() === "close") this.#ended = true;
      return {
        status,
        headers: map,
        body: new Uint8Array(data.buffer, data.byteOffset, data.length),
      };
    } catch (err) {
      this.close();
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  /** Closes the socket. */
  close(): void {
    this.#ended = true;
    this.#sock.destroy();
  }
}
