/**
 * A WinRS shell (MS-WSMV 3.1.4.x): Create it once, run commands in it,
 * feed their stdin with Send, stream stdout/stderr with Receive until
 * CommandState/Done, Signal terminate, Delete the shell.
 *
 * Envelope size: Windows rejects a request larger than its MaxEnvelopeSizekb
 * (500 KB since Windows Server 2012 / WinRM 3.0, 150 KB before) with an
 * EncodingLimit fault, and nothing tells a client the limit without admin
 * rights. So kiln starts at 500 KB and, on the first such fault, drops for
 * good to 153600 bytes — the old default, which every WinRM accepts — and
 * repeats the request; a refused envelope was not processed, so that is safe.
 */
import type { WinrmTransport } from "./winrm_transport.ts";
import {
  ACTION,
  CODE_OPERATION_TIMEOUT,
  commandBody,
  createShellBody,
  envelope,
  type HeaderOptions,
  readCommandId,
  readReceive,
  readShellId,
  receiveBody,
  sendBody,
  signalBody,
  WinrmFault,
} from "./winrm_soap.ts";
import { parseXml } from "./winrm_xml.ts";

/** Windows Server 2012+ default MaxEnvelopeSizekb (500) in bytes. */
export const MODERN_ENVELOPE_SIZE = 512_000;
/** The WinRM 2.0 default every listener accepts. */
export const CONSERVATIVE_ENVELOPE_SIZE = 153_600;
/** Seconds a Receive may wait for output before the server answers "no output yet". */
const RECEIVE_WAIT_SEC = 20;
/** Room the Send envelope around the data needs (measured at startup, with slack). */
const SEND_OVERHEAD = new TextEncoder().encode(
  envelope(
    {
      to: "https://255.255.255.255:65535/wsman",
      action: ACTION.send,
      maxEnvelopeSize: MODERN_ENVELOPE_SIZE,
      operationTimeoutSec: 60,
      shellId: crypto.randomUUID().toUpperCase(),
    },
    sendBody(crypto.randomUUID().toUpperCase(), "", true),
  ),
).length + 512;

/** Where output goes while a command runs. */
export interface OutputHandlers {
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  /** Awaited after each Receive, so a slow consumer holds back the next one. */
  drain?: () => Promise<void>;
}

function isEncodingLimit(err: unknown): boolean {
  return err instanceof WinrmFault &&
    (err.subcode === "EncodingLimit" || /MaxEnvelopeSize/i.test(err.reason));
}

/** Shared by a shell and its commands: the transport and the envelope size in force. */
class Session {
  envelopeSize = MODERN_ENVELOPE_SIZE;
  constructor(readonly transport: WinrmTransport) {}

  header(action: string, extra: Partial<HeaderOptions> = {}): HeaderOptions {
    return {
      to: this.transport.url,
      action,
      maxEnvelopeSize: this.envelopeSize,
      operationTimeoutSec: 60,
      ...extra,
    };
  }

  /** Posts, retrying once at the conservative size if the server refused the envelope's size. */
  async post(build: () => string, signal?: AbortSignal): Promise<string> {
    try {
      return await this.transport.post(build(), signal);
    } catch (err) {
      if (!isEncodingLimit(err) || this.envelopeSize === CONSERVATIVE_ENVELOPE_SIZE) throw err;
      this.envelopeSize = CONSERVATIVE_ENVELOPE_SIZE;
      return await this.transport.post(build(), signal);
    }
  }
}

/** One remote command in a shell. */
export class WinrmCommand {
  constructor(
    readonly shellId: string,
    readonly id: string,
    private readonly session: Session,
  ) {}

  /** Most stdin bytes one Send may carry at the envelope size in force. */
  get maxSendBytes(): number {
    return Math.floor((this.session.envelopeSize - SEND_OVERHEAD) / 4) * 3;
  }

  /** Writes to the command's stdin; `end` closes it. */
  async send(data: Uint8Array, end = false): Promise<void> {
    let offset = 0;
    do {
      const limit = this.maxSendBytes;
      const piece = data.subarray(offset, offset + limit);
      const last = offset + piece.length >= data.length;
      try {
        await this.session.transport.post(
          envelope(
            this.session.header(ACTION.send, { shellId: this.shellId }),
            sendBody(this.id, piece, end && last),
          ),
        );
      } catch (err) {
        if (!isEncodingLimit(err) || this.session.envelopeSize === CONSERVATIVE_ENVELOPE_SIZE) {
          throw err;
        }
        this.session.envelopeSize = CONSERVATIVE_ENVELOPE_SIZE;
        continue; // the same bytes again, in smaller pieces
      }
      offset += piece.length;
    } while (offset < data.length);
  }

  /** Streams output until the command is done; resolves with its exit code. */
  async output(handlers: OutputHandlers, signal?: AbortSignal): Promise<number> {
    while (true) {
      if (signal?.aborted) throw signal.reason ?? new Error("cancelled");
      let xml: string;
      try {
        xml = await this.session.post(
          () =>
            envelope(
              this.session.header(ACTION.receive, {
                shellId: this.shellId,
                operationTimeoutSec: RECEIVE_WAIT_SEC,
                options: { WSMAN_CMDSHELL_OPTION_KEEPALIVE: "TRUE" },
              }),
              receiveBody(this.id),
            ),
          signal,
        );
      } catch (err) {
        if (err instanceof WinrmFault && err.wsmanCode === CODE_OPERATION_TIMEOUT) continue;
        throw err;
      }
      const got = readReceive(parseXml(xml));
      for (const chunk of got.stdout) handlers.stdout?.(chunk);
      for (const chunk of got.stderr) handlers.stderr?.(chunk);
      await handlers.drain?.();
      if (got.exitCode !== undefined) return got.exitCode;
    }
  }

  /** Signals terminate (also how a finished command's resources are released). */
  async terminate(): Promise<void> {
    await this.session.post(() =>
      envelope(
        this.session.header(ACTION.signal, { shellId: this.shellId }),
        signalBody(this.id),
      )
    );
  }
}

/** A cmd shell on the machine. */
export class WinrmShell {
  private constructor(readonly id: string, private readonly session: Session) {}

  /** Creates a shell (UTF-8 code page, so output needs no transcoding). */
  static async open(transport: WinrmTransport, signal?: AbortSignal): Promise<WinrmShell> {
    const session = new Session(transport);
    const xml = await session.post(
      () =>
        envelope(
          session.header(ACTION.create, {
            options: { WINRS_NOPROFILE: "FALSE", WINRS_CODEPAGE: "65001" },
          }),
          createShellBody(),
        ),
      signal,
    );
    return new WinrmShell(readShellId(parseXml(xml)), session);
  }

  /** The envelope size in force (after any fallback). */
  get envelopeSize(): number {
    return this.session.envelopeSize;
  }

  /** Starts `commandLine` (run by cmd.exe, as WinRS does unless told otherwise). */
  async start(commandLine: string): Promise<WinrmCommand> {
    const xml = await this.session.post(() =>
      envelope(
        this.session.header(ACTION.command, {
          shellId: this.id,
          options: { WINRS_CONSOLEMODE_STDIN: "TRUE", WINRS_SKIP_CMD_SHELL: "FALSE" },
        }),
        commandBody(commandLine),
      )
    );
    return new WinrmCommand(this.id, readCommandId(parseXml(xml)), this.session);
  }

  /** Deletes the shell (best effort: a rebooted machine has forgotten it anyway). */
  async delete(): Promise<void> {
    await this.session.post(() =>
      envelope(this.session.header(ACTION.delete, { shellId: this.id }), "")
    );
  }
}
