/**
 * An in-memory Communicator for provisioner unit tests: it records every
 * command line and uploaded file in order, and answers each command with
 * what the test's responder says (output, exit status, or a thrown error
 * standing for a machine that cannot be reached).
 */
import type {
  Communicator,
  RemoteCommand,
  RemoteResult,
  UploadInfo,
} from "../../communicators/communicator.ts";

/** What a command "printed" and how it ended. */
export interface Reply {
  exitStatus?: number;
  stdout?: string;
  stderr?: string;
}

/** Decides the reply to one command; throwing makes `start` reject with that error. */
export type Responder = (command: string, index: number) => Reply | Promise<Reply>;

/** One thing the provisioner did, in order. */
export type Call =
  | { op: "start"; command: string }
  | { op: "upload"; path: string; text: string; bytes: Uint8Array };

async function bytesOf(src: Uint8Array | ReadableStream<Uint8Array>): Promise<Uint8Array> {
  if (src instanceof Uint8Array) return src.slice();
  return new Uint8Array(await new Response(src).arrayBuffer());
}

/** The recording communicator. */
export class RecordingCommunicator implements Communicator {
  readonly type: string;
  readonly calls: Call[] = [];
  #respond: Responder;
  #started = 0;

  constructor(respond: Responder = () => ({ exitStatus: 0 }), type = "winrm") {
    this.#respond = respond;
    this.type = type;
  }

  /** Command lines, in order. */
  get commands(): string[] {
    return this.calls.flatMap((c) => c.op === "start" ? [c.command] : []);
  }

  /** Uploads, in order. */
  get uploads(): { path: string; text: string; bytes: Uint8Array }[] {
    return this.calls.flatMap((c) => c.op === "upload" ? [c] : []);
  }

  async start(cmd: RemoteCommand): Promise<RemoteResult> {
    cmd.signal?.throwIfAborted();
    this.calls.push({ op: "start", command: cmd.command });
    const reply = await this.#respond(cmd.command, this.#started++);
    const enc = new TextEncoder();
    if (reply.stdout) cmd.stdout?.(enc.encode(reply.stdout));
    if (reply.stderr) cmd.stderr?.(enc.encode(reply.stderr));
    return { exitStatus: reply.exitStatus ?? 0 };
  }

  async upload(
    dst: string,
    src: Uint8Array | ReadableStream<Uint8Array>,
    _info?: UploadInfo,
  ): Promise<void> {
    const bytes = await bytesOf(src);
    this.calls.push({ op: "upload", path: dst, text: new TextDecoder().decode(bytes), bytes });
  }

  uploadDir(dst: string): Promise<void> {
    return Promise.reject(new Error(`RecordingCommunicator: uploadDir(${dst}) is not recorded`));
  }

  download(src: string): Promise<void> {
    return Promise.reject(new Error(`RecordingCommunicator: download(${src}) is not recorded`));
  }

  downloadDir(src: string): Promise<void> {
    return Promise.reject(new Error(`RecordingCommunicator: downloadDir(${src}) is not recorded`));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
