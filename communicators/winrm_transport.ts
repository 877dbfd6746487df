/**
 * Posting SOAP envelopes to a WinRM listener: a small pool of authenticated
 * keep-alive connections (a Receive long-poll holds one while a Send or a
 * Signal needs another), Basic or NTLM authentication, and the translation of
 * HTTP answers into results, faults and clear errors.
 */
import { HttpConnection, type HttpTarget } from "./winrm_http.ts";
import { authenticateToken, negotiateToken } from "./winrm_ntlm.ts";
import { readFault } from "./winrm_soap.ts";

/** How to reach and log in to the listener. */
export interface TransportSettings extends HttpTarget {
  username: string;
  password: string;
  ntlm: boolean;
  /** Milliseconds to wait for a TCP/TLS connection. */
  connectTimeoutMs: number;
}

/** The listener refused the credentials: retrying cannot help. */
export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();
/** Idle connections kept for reuse; more are opened while requests overlap. */
const MAX_IDLE = 4;

/** A WinRM endpoint as seen by one communicator. */
export class WinrmTransport {
  readonly url: string;
  #s: TransportSettings;
  #idle: HttpConnection[] = [];
  #all = new Set<HttpConnection>();
  #basic: string;

  constructor(settings: TransportSettings) {
    this.#s = settings;
    this.url = `${settings.tls ? "https" : "http"}://${settings.host}:${settings.port}/wsman`;
    this.#basic = "Basic " + btoa(
      String.fromCharCode(...encoder.encode(`${settings.username}:${settings.password}`)),
    );
  }

  get #where(): string {
    return `${this.#s.host}:${this.#s.port}`;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      Host: this.#where,
      "Content-Type": "application/soap+xml;charset=UTF-8",
      "User-Agent": "kiln WinRM client",
      ...extra,
    };
  }

  #denied(): AuthError {
    const scheme = this.#s.ntlm ? "ntlm" : "basic";
    return new AuthError(
      `WinRM authentication failed for user ${this.#s.username} at ${this.#where} (${scheme})`,
    );
  }

  async #connection(signal?: AbortSignal): Promise<HttpConnection> {
    while (this.#idle.length) {
      const conn = this.#idle.pop()!;
      if (conn.usable) return conn;
      this.#all.delete(conn);
    }
    const conn = await HttpConnection.open(this.#s, this.#s.connectTimeoutMs, signal);
    this.#all.add(conn);
    return conn;
  }

  #release(conn: HttpConnection) {
    if (conn.usable && this.#idle.length < MAX_IDLE) this.#idle.push(conn);
    else {
      conn.close();
      this.#all.delete(conn);
    }
  }

  /** NTLM's three legs on `conn`; the last one carries the real body. */
  async #ntlmHandshake(conn: HttpConnection, body: Uint8Array) {
    const first = await conn.request(
      "/wsman",
      this.#headers({ Authorization: `Negotiate ${negotiateToken(this.#s.username)}` }),
      new Uint8Array(0),
    );
    const challenge = (first.headers.get("www-authenticate") ?? [])
      .map((h) => h.match(/^(?:Negotiate|NTLM)\s+(\S+)/i)?.[1])
      .find((t) => t !== undefined);
    if (first.status !== 401 || !challenge) throw this.#denied();
    const token = authenticateToken(challenge, this.#s.username, this.#s.password);
    const res = await conn.request(
      "/wsman",
      this.#headers({ Authorization: `Negotiate ${token}` }),
      body,
    );
    if (res.status === 401) throw this.#denied();
    conn.authenticated = true;
    return res;
  }

  /**
   * Posts an envelope; resolves with the response XML, rejects with a
   * WinrmFault (the server's reason), AuthError, UnreachableError or
   * CertificateError.
   */
  async post(xml: string, signal?: AbortSignal): Promise<string> {
    const body = encoder.encode(xml);
    const conn = await this.#connection(signal);
    try {
      let res;
      if (!this.#s.ntlm) {
        res = await conn.request("/wsman", this.#headers({ Authorization: this.#basic }), body);
      } else if (conn.authenticated) {
        res = await conn.request("/wsman", this.#headers(), body);
        // The server forgot us (e.g. it restarted behind the same address): log in again.
        if (res.status === 401) res = await this.#ntlmHandshake(conn, body);
      } else {
        res = await this.#ntlmHandshake(conn, body);
      }
      const text = decoder.decode(res.body);
      if (res.status === 200) return text;
      if (res.status === 401) throw this.#denied();
      const fault = readFault(text, res.status);
      if (fault) throw fault;
      throw new Error(
        `WinRM ${this.#where} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`,
      );
    } finally {
      this.#release(conn);
    }
  }

  /** Closes every connection. */
  close(): void {
    for (const conn of this.#all) conn.close();
    this.#all.clear();
    this.#idle = [];
  }
}
