/**
 * A WinRM (WS-Management / WinRS) listener for tests, on 127.0.0.1: HTTP
 * or HTTPS with a self-signed certificate, Basic and NTLMv2 authentication
 * (NTLM authenticates the TCP connection, as HTTP.sys does), MaxEnvelopeSize
 * enforced with Windows' fault, shells and commands with Receive
 * long-polling, Signal and Delete, and `restart()` to play a reboot.
 * pywinrm drives it in tests/winrm/server_test.ts to prove it is faithful.
 */
import { Buffer } from "node:buffer";
import { findAll, findFirst, parseXml, type XmlNode } from "../../../communicators/winrm_xml.ts";
import { ACTION } from "../../../communicators/winrm_soap.ts";
import { RunningCommand } from "./commands.ts";
import { selfSignedCertificate } from "./cert.ts";
import { startTlsFront, type TlsFront } from "./tls_front.ts";
import type { CommandEmulator } from "./emulation.ts";
import { execute } from "./execute.ts";
import { challengeMessage, messageType, verifyAuthenticate } from "./ntlm_server.ts";
import { windowsEnvironment } from "./paths.ts";
import { fault, FAULTS, type FaultSpec, received, reply, shellCreated } from "./replies.ts";
import { emulateWindowsCommand } from "./windows_commands.ts";
import { commandLogFromEnv, describeCommand } from "./command_log.ts";

/** How to set the listener up. */
export interface WinrmServerOptions {
  username?: string;
  password?: string;
  /** Accepted schemes (default both). */
  auth?: ("basic" | "ntlm")[];
  https?: boolean;
  /** Largest request accepted, in bytes (Windows: MaxEnvelopeSizekb; default 500 KB). */
  maxEnvelopeSize?: number;
  /** Where `C:\` and friends live (default: a fresh temp dir, removed by stop()). */
  root?: string;
  /** Fixed port (e.g. a test that starts the server late); default ephemeral. */
  port?: number;
  /** Command emulation before /bin/sh (default: the Windows command emulation). */
  emulator?: CommandEmulator;
  /**
   * Called with each command line as it starts, `-EncodedCommand` scripts
   * decoded (default: `KILN_WINRM_LOG` — a file path, or `-` for stderr).
   */
  log?: (text: string) => void;
}

/** Counters tests assert on. */
export interface WinrmServerStats {
  /** Requests by action name (Create, Command, Send, Receive, Signal, Delete). */
  actions: Record<string, number>;
  /** Largest request body accepted, in bytes. */
  largestRequest: number;
  /** Requests refused for exceeding maxEnvelopeSize. */
  oversized: number;
  /** Command lines run, in order. */
  commands: string[];
}

/** A running listener. */
export interface WinrmServer {
  host: string;
  port: number;
  url: string;
  root: string;
  username: string;
  password: string;
  /** The listener's certificate (PEM) when https. */
  certificate?: string;
  stats: WinrmServerStats;
  /** Plays a reboot: shells are lost, the port refuses connections for `downMs`. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

interface Shell {
  id: string;
  env: Record<string, string>;
  commands: Map<string, RunningCommand>;
}

class SoapFault extends Error {
  constructor(readonly spec: FaultSpec) {
    super(spec.reason);
  }
}

function headerText(header: XmlNode | undefined, name: string): string {
  return header ? findFirst(header, name)?.text.trim() ?? "" : "";
}

function seconds(duration: string): number {
  const m = duration.match(/^PT(?:(\d+)M)?(?:([\d.]+)S)?$/);
  return m ? Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) : 60;
}

/** Starts a listener; call stop() in a finally. */
export async function startWinrmServer(options: WinrmServerOptions = {}): Promise<WinrmServer> {
  const username = options.username ?? "vagrant";
  const password = options.password ?? "vagrant";
  const schemes = options.auth ?? ["basic", "ntlm"];
  const maxEnvelope = options.maxEnvelopeSize ?? 512_000;
  const ownRoot = options.root === undefined;
  const root = options.root ?? await Deno.makeTempDir({ prefix: "kiln-winrm-root-" });
  await Deno.mkdir(`${root}/C/Windows/Temp`, { recursive: true });
  await Deno.mkdir(`${root}/C/Users/${username}`, { recursive: true });
  const tls = options.https ? await selfSignedCertificate() : undefined;
  const emulator = options.emulator ?? emulateWindowsCommand;
  const log = options.log ?? commandLogFromEnv();
  const stats: WinrmServerStats = { actions: {}, largestRequest: 0, oversized: 0, commands: [] };
  const shells = new Map<string, Shell>();
  /** NTLM state per TCP connection ("host:port" of the client). */
  const connections = new Map<string, { challenge?: Buffer; user?: string }>();
  /** Aborted when shells are lost (restart/stop): pending Receives give up. */
  let generation = new AbortController();
  let server: Deno.HttpServer | undefined;
  let port = options.port ?? 0;
  let url = "";

  const forgetEverything = () => {
    generation.abort();
    generation = new AbortController();
    for (const shell of shells.values()) for (const cmd of shell.commands.values()) cmd.terminate();
    shells.clear();
    connections.clear();
  };

  const unauthorized = (challenge?: string) => {
    const headers = new Headers({ "Content-Length": "0" });
    if (challenge) headers.append("WWW-Authenticate", `Negotiate ${challenge}`);
    else {
      if (schemes.includes("ntlm")) headers.append("WWW-Authenticate", "Negotiate");
      if (schemes.includes("basic")) headers.append("WWW-Authenticate", 'Basic realm="WSMAN"');
    }
    return new Response(null, { status: 401, headers });
  };

  /** undefined: authenticated; otherwise the response to send. */
  const authenticate = (req: Request, conn: string): Response | undefined => {
    const header = req.headers.get("authorization") ?? "";
    const state = connections.get(conn) ?? {};
    connections.set(conn, state);
    const [scheme, token] = header.split(/\s+/, 2);
    if (/^basic$/i.test(scheme) && schemes.includes("basic")) {
      const [user, ...rest] = Buffer.from(token ?? "", "base64").toString("utf8").split(":");
      return user === username && rest.join(":") === password ? undefined : unauthorized();
    }
    if (/^(negotiate|ntlm)$/i.test(scheme) && schemes.includes("ntlm") && token) {
      const type = messageType(token);
      if (type === 1) {
        const { token: t2, challenge } = challengeMessage();
        state.challenge = challenge;
        state.user = undefined;
        return unauthorized(t2);
      }
      if (type === 3 && state.challenge) {
        const verdict = verifyAuthenticate(token, state.challenge, username, password);
        state.challenge = undefined;
        if (!verdict.ok) return unauthorized();
        state.user = verdict.user;
        return undefined;
      }
      return unauthorized();
    }
    if (!header && state.user) return undefined; // an NTLM-authenticated connection
    return unauthorized();
  };

  const shellOf = (header: XmlNode | undefined): Shell => {
    const id = header
      ? findAll(header, "Selector").find((s) => s.attrs.Name === "ShellId")?.text.trim() ?? ""
      : "";
    const shell = shells.get(id);
    if (!shell) throw new SoapFault(FAULTS.shellNotFound(id));
    return shell;
  };

  const commandOf = (shell: Shell, id: string | undefined): RunningCommand => {
    const cmd = shell.commands.get(id ?? "");
    if (!cmd) throw new SoapFault(FAULTS.invalid(`no command ${id} in shell ${shell.id}`));
    return cmd;
  };

  const shellContext = (shell: Shell) => ({
    root,
    env: shell.env,
    emulator,
    restart: (ms?: number) => void handle.restart(ms),
  });

  /** Dispatches one envelope; resolves with [action, body] of the answer. */
  const dispatch = async (doc: XmlNode): Promise<[string, string]> => {
    const header = findFirst(doc, "Header");
    const body = findFirst(doc, "Body");
    const action = headerText(header, "Action");
    const name = action.slice(action.lastIndexOf("/") + 1);
    stats.actions[name] = (stats.actions[name] ?? 0) + 1;
    switch (action) {
      case ACTION.create: {
        const id = crypto.randomUUID().toUpperCase();
        const env = windowsEnvironment(username);
        for (const v of body ? findAll(body, "Variable") : []) env[v.attrs.Name] = v.text;
        shells.set(id, { id, env, commands: new Map() });
        return [`${ACTION.create}Response`, shellCreated(url, id)];
      }
      case ACTION.command: {
        const shell = shellOf(header);
        const line = [
          findFirst(body!, "Command")?.text ?? "",
          ...findAll(body!, "Arguments")
            .map((a) => a.text),
        ].join(" ").trim();
        const cmd = new RunningCommand(line);
        shell.commands.set(cmd.id, cmd);
        stats.commands.push(line);
        log?.(describeCommand(shell.id, line));
        void execute(cmd, { ...shellContext(shell), env: { ...shell.env } });
        return [
          `${ACTION.command}Response`,
          `<rsp:CommandResponse><rsp:CommandId>${cmd.id}</rsp:CommandId></rsp:CommandResponse>`,
        ];
      }
      case ACTION.send: {
        const shell = shellOf(header);
        for (const stream of findAll(body!, "Stream")) {
          const cmd = commandOf(shell, stream.attrs.CommandId);
          if (cmd.exitCode !== undefined) {
            throw new SoapFault(FAULTS.invalid(`command ${cmd.id} has already exited`));
          }
          cmd.stdin.push(new Uint8Array(Buffer.from(stream.text.trim(), "base64")));
          if (stream.attrs.End === "true") cmd.stdin.end();
        }
        return [`${ACTION.send}Response`, "<rsp:SendResponse/>"];
      }
      case ACTION.receive: {
        const shell = shellOf(header);
        const desired = findFirst(body!, "DesiredStream");
        const cmd = commandOf(shell, desired?.attrs.CommandId);
        const wait = seconds(headerText(header, "OperationTimeout")) * 1000;
        const lost = generation.signal;
        if (!(await cmd.ready(wait, lost))) throw new SoapFault(FAULTS.timedOut);
        if (lost.aborted) throw new SoapFault(FAULTS.shellNotFound(shell.id));
        const limit = Number(headerText(header, "MaxEnvelopeSize")) || 153_600;
        const { chunks, done } = cmd.take(Math.max(4096, limit - 4096));
        if (done !== undefined) shell.commands.delete(cmd.id);
        return [`${ACTION.receive}Response`, received(cmd.id, chunks, done)];
      }
      case ACTION.signal: {
        const shell = shellOf(header);
        const signal = findFirst(body!, "Signal");
        const cmd = shell.commands.get(signal?.attrs.CommandId ?? "");
        if (cmd && /terminate$/.test(findFirst(signal!, "Code")?.text ?? "")) {
          cmd.terminate();
          shell.commands.delete(cmd.id);
        }
        return [`${ACTION.signal}Response`, "<rsp:SignalResponse/>"];
      }
      case ACTION.delete: {
        const shell = shellOf(header);
        for (const cmd of shell.commands.values()) cmd.terminate();
        shells.delete(shell.id);
        return [`${ACTION.delete}Response`, ""];
      }
      default:
        throw new SoapFault(FAULTS.actionNotSupported(action));
    }
  };

  const handler = async (req: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
    const addr = info.remoteAddr as Deno.NetAddr;
    const raw = new Uint8Array(await req.arrayBuffer());
    const denied = authenticate(req, `${addr.hostname}:${addr.port}`);
    if (denied) return denied;
    if (new URL(req.url).pathname !== "/wsman") return new Response("not found", { status: 404 });
    const xml = new TextDecoder().decode(raw);
    let relatesTo = "";
    const soap = (status: number, text: string) =>
      new Response(text, {
        status,
        headers: { "Content-Type": "application/soap+xml;charset=UTF-8" },
      });
    try {
      const doc = parseXml(xml);
      if (doc.name !== "Envelope" || !findFirst(doc, "Body")) {
        throw new SoapFault(FAULTS.invalid("not a SOAP envelope"));
      }
      relatesTo = headerText(findFirst(doc, "Header"), "MessageID");
      if (raw.length > maxEnvelope) {
        stats.oversized++;
        throw new SoapFault(FAULTS.envelopeTooLarge(raw.length, maxEnvelope));
      }
      stats.largestRequest = Math.max(stats.largestRequest, raw.length);
      const [action, body] = await dispatch(doc);
      return soap(200, reply(action, relatesTo, body));
    } catch (err) {
      const spec = err instanceof SoapFault ? err.spec : FAULTS.invalid((err as Error).message);
      return soap(500, fault(spec, relatesTo));
    }
  };

  let front: TlsFront | undefined;
  const listen = () => {
    server = Deno.serve(
      { hostname: "127.0.0.1", port: tls ? 0 : port, onListen: () => {} },
      handler,
    );
    const plain = (server.addr as Deno.NetAddr).port;
    if (tls) front = startTlsFront(port, plain, tls.cert, tls.key);
    port = front?.port ?? plain;
    url = `${tls ? "https" : "http"}://127.0.0.1:${port}/wsman`;
  };
  const unlisten = async () => {
    const closing = [front?.close(), server?.shutdown()];
    front = undefined;
    server = undefined;
    await Promise.all(closing);
  };
  listen();

  let restarting: Promise<void> | undefined;
  const handle: WinrmServer = {
    host: "127.0.0.1",
    get port() {
      return port;
    },
    get url() {
      return url;
    },
    root,
    username,
    password,
    certificate: tls?.cert,
    stats,
    restart(downMs = 1000) {
      restarting ??= (async () => {
        forgetEverything();
        await unlisten();
        await new Promise((r) => setTimeout(r, downMs));
        listen();
        restarting = undefined;
      })();
      return restarting;
    },
    async stop() {
      await restarting;
      forgetEverything();
      await unlisten();
      if (ownRoot) await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
  return handle;
}
