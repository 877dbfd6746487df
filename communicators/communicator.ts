/**
 * The communicator interface: how provisioners reach a machine. Adapters
 * (ssh, winrm, none) sit behind it, so provisioners never know which one runs.
 */

/** A command to run on the machine. */
export interface RemoteCommand {
  /** Shell command line, run by the remote default shell. */
  command: string;
  /** Receives stdout as it arrives. */
  stdout?: (chunk: Uint8Array) => void;
  /** Receives stderr as it arrives. */
  stderr?: (chunk: Uint8Array) => void;
  /** Aborting kills the remote command (signal, then channel close). */
  signal?: AbortSignal;
  /**
   * Bytes fed to the command's stdin, closed at the stream's end (an
   * sftp-server or `scp -t` behind a local proxy needs them). Communicators
   * without a stdin channel (winrm) refuse a command that has one.
   */
  stdin?: ReadableStream<Uint8Array>;
}

/** How a remote command ended. */
export interface RemoteResult {
  /** Exit status; -1 when the connection dropped before a status arrived. */
  exitStatus: number;
}

/** Metadata for an uploaded file. */
export interface UploadInfo {
  /** Unix permission bits for the remote file (default 0644). */
  mode?: number;
  /** Size in bytes when known (scp needs it up front). */
  size?: number;
  /** Called as the transfer advances (winrm: once per chunk) with bytes sent and the total. */
  progress?: (sent: number, total?: number) => void;
}

/** A connection to a machine being provisioned. */
export interface Communicator {
  /** "ssh", "winrm" or "none". */
  readonly type: string;
  /** Runs a command, streaming output; resolves when it exits. */
  start(cmd: RemoteCommand): Promise<RemoteResult>;
  /** Writes a remote file from bytes or a stream. */
  upload(
    dst: string,
    src: Uint8Array | ReadableStream<Uint8Array>,
    info?: UploadInfo,
  ): Promise<void>;
  /** Copies a local directory to `dst` (Packer semantics: caller applies the trailing-slash rule). */
  uploadDir(dst: string, src: string, exclude?: string[], info?: UploadInfo): Promise<void>;
  /** Streams a remote file into `dst`. */
  download(src: string, dst: WritableStream<Uint8Array>): Promise<void>;
  /** Copies a remote directory to a local directory. */
  downloadDir(src: string, dst: string, exclude?: string[]): Promise<void>;
  /** Closes the connection (idempotent). */
  close(): Promise<void>;
}

/** Raised by communicators when the connection is lost (e.g. the machine rebooted). */
export class DisconnectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DisconnectedError";
  }
}
