/**
 * The WinRM communicator: commands and file transfer through WinRS shells
 * that are kept open between operations (Packer opens a shell per command
 * and, for uploads, a new one every 15 chunks). A shell the machine forgot —
 * it rebooted — is replaced on the next call; an unreachable machine
 * surfaces as DisconnectedError so the shell provisioners' retry loops and
 * windows-restart can ride out a reboot.
 */
import {
  type Communicator,
  DisconnectedError,
  type RemoteCommand,
  type RemoteResult,
  type UploadInfo,
} from "./communicator.ts";
import { flattenTree, listLocalTree } from "./ssh_tree.ts";
import { UnreachableError } from "./winrm_http.ts";
import type { WinrmSettings } from "./winrm_settings.ts";
import { WinrmShell } from "./winrm_shell.ts";
import { WinrmFault } from "./winrm_soap.ts";
import { downloadInto, uploadEntries, type UploadEntry } from "./winrm_transfer.ts";
import type { WinrmTransport } from "./winrm_transport.ts";

/** Shells kept open for reuse. */
const MAX_IDLE_SHELLS = 2;

/** "Shell not found": the machine restarted its WinRM service (or rebooted). */
function isLostShell(err: unknown): boolean {
  return err instanceof WinrmFault &&
    (err.subcode === "InvalidSelectors" ||
      /shell was not found|no longer exists/i.test(err.reason));
}

function asDisconnect(err: unknown, what: string): unknown {
  if (err instanceof UnreachableError || isLostShell(err)) {
    return new DisconnectedError(`${what}: ${(err as Error).message}`);
  }
  return err;
}

/** Joins a Windows directory and a slash-separated relative path. */
export function windowsJoin(dir: string, rel: string): string {
  return `${dir.replace(/[\\/]+$/, "")}\\${rel.replaceAll("/", "\\")}`;
}

/** Communicator over a WinRM listener. */
export class WinrmCommunicator implements Communicator {
  readonly type = "winrm";
  #transport: WinrmTransport;
  #settings: WinrmSettings;
  #idle: WinrmShell[] = [];
  #closed = false;

  constructor(transport: WinrmTransport, settings: WinrmSettings, first?: WinrmShell) {
    this.#transport = transport;
    this.#settings = settings;
    if (first) this.#idle.push(first);
  }

  /** Where this communicator is connected (for events and build data). */
  get endpoint(): { host: string; port: number; user: string } {
    return { host: this.#settings.host, port: this.#settings.port, user: this.#settings.username };
  }

  /** Runs `work` in an idle shell (or a new one); a shell that fails is dropped, not reused. */
  async #withShell<T>(what: string, work: (shell: WinrmShell) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error("the winrm communicator is closed");
    for (let attempt = 0;; attempt++) {
      const reused = this.#idle.pop();
      let shell: WinrmShell;
      try {
        shell = reused ?? await WinrmShell.open(this.#transport);
      } catch (err) {
        throw asDisconnect(err, what);
      }
      try {
        const result = await work(shell);
        if (this.#idle.length < MAX_IDLE_SHELLS && !this.#closed) this.#idle.push(shell);
        else await shell.delete().catch(() => {});
        return result;
      } catch (err) {
        // A kept shell may have died with a reboot: one fresh try before giving up.
        if (reused && isLostShell(err) && attempt === 0) continue;
        await shell.delete().catch(() => {});
        throw asDisconnect(err, what);
      }
    }
  }

  /** Runs a command in cmd.exe, streaming output; abort terminates it. */
  async start(cmd: RemoteCommand): Promise<RemoteResult> {
    if (cmd.signal?.aborted) throw cmd.signal.reason ?? new Error("cancelled");
    if (cmd.stdin) {
      // WinRM's Send of stdin is not implemented: refuse rather than run the command without it.
      throw new Error("the winrm communicator cannot feed a command's stdin");
    }
    return await this.#withShell("running a command over WinRM", async (shell) => {
      const command = await shell.start(cmd.command);
      const exited = command.output({ stdout: cmd.stdout, stderr: cmd.stderr });
      exited.catch(() => {});
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          // Settle now; the terminate travels on its own connection while a Receive is pending.
          command.terminate().catch(() => {});
          reject(cmd.signal?.reason ?? new Error("cancelled"));
        };
        cmd.signal?.addEventListener("abort", onAbort, { once: true });
      });
      aborted.catch(() => {});
      try {
        const exitStatus = await Promise.race([exited, aborted]);
        await command.terminate().catch(() => {});
        return { exitStatus };
      } catch (err) {
        if (err instanceof UnreachableError && !cmd.signal?.aborted) {
          // Started, then the machine went away (a reboot): the contract's -1.
          return { exitStatus: -1 };
        }
        throw err;
      } finally {
        if (onAbort) cmd.signal?.removeEventListener("abort", onAbort);
      }
    });
  }

  /** Uploads bytes or a stream to the remote file `dst`. */
  async upload(
    dst: string,
    src: Uint8Array | ReadableStream<Uint8Array>,
    info: UploadInfo = {},
  ): Promise<void> {
    const size = src instanceof Uint8Array ? src.length : info.size;
    const entry: UploadEntry = {
      kind: "file",
      path: dst,
      open: () => Promise.resolve(src instanceof Uint8Array ? ReadableStream.from([src]) : src),
    };
    const what = `upload to ${dst}`;
    await this.#withShell(
      what,
      (shell) => uploadEntries(shell, [entry], what, info.progress, size),
    );
  }

  /** Uploads a directory; `src` without a trailing slash is created inside `dst` (rsync's rule). */
  async uploadDir(
    dst: string,
    src: string,
    exclude?: string[],
    info: UploadInfo = {},
  ): Promise<void> {
    const tree = flattenTree(await listLocalTree(src, exclude));
    let total = 0;
    const entries: UploadEntry[] = [{ kind: "dir", path: dst }];
    for (const { rel, entry } of tree) {
      const path = windowsJoin(dst, rel);
      if (entry.kind === "dir") {
        entries.push({ kind: "dir", path });
        continue;
      }
      total += entry.size;
      entries.push({
        kind: "file",
        path,
        open: async () => (await Deno.open(entry.path, { read: true })).readable,
      });
    }
    const what = `upload of ${src} to ${dst}`;
    await this.#withShell(
      what,
      (shell) => uploadEntries(shell, entries, what, info.progress, total),
    );
  }

  /** Streams the remote file `src` into `dst`. */
  async download(src: string, dst: WritableStream<Uint8Array>): Promise<void> {
    const writer = dst.getWriter();
    const what = `download of ${src}`;
    try {
      await this.#withShell(
        what,
        (shell) => downloadInto(shell, src, "file", { kind: "stream", writer }, what),
      );
      await writer.close();
    } catch (err) {
      await writer.abort(err).catch(() => {});
      throw err;
    }
  }

  /** Downloads the remote directory `src` into `dst/<name>` (a glob: its matches into `dst`). */
  async downloadDir(src: string, dst: string, _exclude?: string[]): Promise<void> {
    await Deno.mkdir(dst, { recursive: true });
    const mode = /[*?[]/.test(src) ? "glob" : "dir";
    const trimmed = mode === "dir" ? src.replace(/[\\/]+$/, "") : src;
    const what = `download of ${src}`;
    await this.#withShell(
      what,
      (shell) => downloadInto(shell, trimmed, mode, { kind: "dir", root: dst }, what),
    );
  }

  /** Deletes the open shells and closes the connections (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const shells = this.#idle.splice(0);
    await Promise.all(shells.map((s) => s.delete().catch(() => {})));
    this.#transport.close();
  }
}
