/**
 * The SSH communicator: commands, file transfer (scp or sftp), tunnels, and
 * transparent reconnection — after a reboot the next call opens a fresh
 * connection, so the shell provisioner's start_retry_timeout loop can ride
 * out a restart of the machine.
 *
 * File transfer follows OpenSSH 9's `scp`: the scp method speaks SFTP when
 * the server offers the subsystem (one session per connection, no login
 * shell per file, no spooling of streams of unknown length) and the legacy
 * scp protocol (`scp -t`/`scp -f` through the user's shell) when it does
 * not. The sftp method is SFTP only, and fails where SFTP is not offered.
 */
import { Buffer } from "node:buffer";
import { utils } from "ssh2";
import type { SFTPWrapper } from "ssh2";
import {
  type Communicator,
  DisconnectedError,
  type RemoteCommand,
  type RemoteResult,
  type UploadInfo,
} from "./communicator.ts";
import { connectOnce, type SshLink } from "./ssh_connect.ts";
import { execCommand } from "./ssh_exec.ts";
import { scpDownload, scpDownloadDir, scpUpload, scpUploadDir } from "./ssh_scp.ts";
import {
  openSftp,
  sftpDownload,
  sftpDownloadDir,
  SftpUnavailableError,
  sftpUpload,
  sftpUploadDir,
} from "./ssh_sftp.ts";
import { asScp } from "./ssh_sftp_scp.ts";
import type { SshSettings } from "./ssh_settings.ts";
import { asStream, spoolToTempFile } from "./ssh_stream.ts";
import { openTunnels, type Tunnels } from "./ssh_tunnels.ts";
import { shellQuote } from "./ssh_quote.ts";

/** Communicator over a (re)connectable SSH link. */
export class SshCommunicator implements Communicator {
  readonly type = "ssh";
  #link: SshLink;
  #settings: SshSettings;
  #signal: AbortSignal;
  #sftp: Promise<SFTPWrapper> | undefined;
  /** The link whose server refused SFTP: the scp method uses legacy scp on it. */
  #noSftp: SshLink | undefined;
  #tunnels: Tunnels | undefined;
  #closed = false;
  #reconnecting: Promise<SshLink> | undefined;
  #temporaryKey: string | undefined;

  constructor(link: SshLink, settings: SshSettings, signal: AbortSignal, temporaryKey?: string) {
    this.#link = link;
    this.#settings = settings;
    this.#signal = signal;
    this.#temporaryKey = temporaryKey;
  }

  /** Where this communicator is connected (for events and build data). */
  get endpoint(): { host: string; port: number; user: string } {
    return {
      host: this.#settings.host,
      port: this.#settings.port,
      user: this.#settings.auth.username,
    };
  }

  /** Opens the configured tunnels on the current link. */
  async openTunnels(): Promise<void> {
    const { localTunnels, remoteTunnels } = this.#settings;
    if (localTunnels.length === 0 && remoteTunnels.length === 0) return;
    await this.#tunnels?.close();
    this.#tunnels = await openTunnels(this.#link.client, localTunnels, remoteTunnels);
  }

  /** The live link, reconnecting once if the previous one dropped. */
  async #live(): Promise<SshLink> {
    if (this.#closed) throw new Error("the ssh communicator is closed");
    if (this.#link.isOpen()) return this.#link;
    this.#reconnecting ??= (async () => {
      try {
        this.#sftp = undefined;
        this.#noSftp = undefined;
        try {
          this.#link = await connectOnce(this.#settings, this.#signal);
        } catch (err) {
          if (this.#signal.aborted) throw err;
          throw new DisconnectedError(`reconnecting: ${(err as Error).message}`);
        }
        await this.openTunnels();
        return this.#link;
      } finally {
        this.#reconnecting = undefined;
      }
    })();
    return await this.#reconnecting;
  }

  /** The link's SFTP session, opened once and shared by every transfer on it. */
  #sftpSession(link: SshLink): Promise<SFTPWrapper> {
    if (!this.#sftp) {
      const opening = openSftp(link).then((sftp) => {
        sftp.on("close", () => {
          if (this.#sftp === opening) this.#sftp = undefined;
        });
        return sftp;
      });
      opening.catch(() => {
        if (this.#sftp === opening) this.#sftp = undefined;
      });
      this.#sftp = opening;
    }
    return this.#sftp;
  }

  /**
   * How the next transfer goes: an SFTP session, or the link for legacy scp
   * when the scp method meets a server without the sftp subsystem (asked
   * once per connection; a reconnect asks again, the machine may differ).
   */
  async #transport(): Promise<
    { sftp: SFTPWrapper; link: SshLink; scp: boolean } | {
      sftp?: undefined;
      link: SshLink;
      scp?: undefined;
    }
  > {
    const link = await this.#live();
    const scp = this.#settings.fileTransfer === "scp";
    if (scp && this.#noSftp === link) return { link };
    try {
      return { sftp: await this.#sftpSession(link), link, scp };
    } catch (err) {
      if (!scp || !(err instanceof SftpUnavailableError)) throw err;
      this.#noSftp = link;
      return { link };
    }
  }

  /**
   * Settles with `work`, or rejects with DisconnectedError as soon as the
   * connection drops (a dead peer never answers the pending request).
   */
  async #guard<T>(link: SshLink, what: string, work: Promise<T>): Promise<T> {
    const lost = link.closed.then((): never => {
      throw new DisconnectedError(`connection lost during ${what}`);
    });
    // Whichever loses the race must not surface as an unhandled rejection.
    lost.catch(() => {});
    work.catch(() => {});
    return await Promise.race([work, lost]);
  }

  /** Runs a command; rejects with DisconnectedError when the link drops meanwhile. */
  async start(cmd: RemoteCommand): Promise<RemoteResult> {
    const link = await this.#live();
    return await execCommand(link, cmd, {
      pty: this.#settings.pty,
      agentForward: this.#settings.agentForwardSocket !== undefined,
    });
  }

  /** Uploads bytes or a stream to the remote file `dst`. */
  async upload(
    dst: string,
    src: Uint8Array | ReadableStream<Uint8Array>,
    info: UploadInfo = {},
  ): Promise<void> {
    const mode = info.mode ?? 0o644;
    const what = `the upload to ${dst}`;
    const t = await this.#transport();
    if (t.sftp) {
      const work = sftpUpload(t.sftp, dst, asStream(src), mode);
      await this.#guard(t.link, what, t.scp ? asScp(t.sftp, `to ${dst}`, work) : work);
      return;
    }
    let size = src instanceof Uint8Array ? src.length : info.size;
    let stream = asStream(src);
    let spooled: string | undefined;
    if (size === undefined) {
      const spool = await spoolToTempFile(stream);
      spooled = spool.path;
      size = spool.size;
      stream = (await Deno.open(spool.path, { read: true })).readable;
    }
    try {
      const link = await this.#live();
      await this.#guard(link, what, scpUpload(link, dst, stream, size, mode));
    } finally {
      if (spooled) await Deno.remove(spooled).catch(() => {});
    }
  }

  /** Uploads a directory; `src` without a trailing slash is created inside `dst` (rsync's rule). */
  async uploadDir(dst: string, src: string, exclude?: string[]): Promise<void> {
    const what = `the upload of ${src} to ${dst}`;
    const t = await this.#transport();
    if (t.sftp) {
      const work = sftpUploadDir(t.sftp, dst, src, exclude);
      await this.#guard(t.link, what, t.scp ? asScp(t.sftp, `of ${src} to ${dst}`, work) : work);
    } else {
      await this.#guard(t.link, what, scpUploadDir(t.link, dst, src, exclude));
    }
  }

  /** Downloads the remote file `src`. */
  async download(src: string, dst: WritableStream<Uint8Array>): Promise<void> {
    const what = `the download of ${src}`;
    const t = await this.#transport();
    if (t.sftp) {
      const work = sftpDownload(t.sftp, src, dst);
      await this.#guard(t.link, what, t.scp ? asScp(t.sftp, `from ${src}`, work) : work);
    } else {
      await this.#guard(t.link, what, scpDownload(t.link, src, dst));
    }
  }

  /** Downloads the remote directory `src` into `dst/<name>` (a glob: matches into `dst`). */
  async downloadDir(src: string, dst: string, _exclude?: string[]): Promise<void> {
    const what = `the download of ${src}`;
    const t = await this.#transport();
    if (t.sftp) {
      const work = sftpDownloadDir(t.sftp, src, dst);
      await this.#guard(t.link, what, t.scp ? asScp(t.sftp, `from ${src}`, work) : work);
    } else {
      await this.#guard(t.link, what, scpDownloadDir(t.link, src, dst));
    }
  }

  /** Removes the temporary key from authorized_keys when ssh_clear_authorized_keys is set. */
  async #clearAuthorizedKeys(): Promise<void> {
    if (!this.#settings.clearAuthorizedKeys || !this.#temporaryKey || !this.#link.isOpen()) return;
    const parsed = utils.parseKey(this.#temporaryKey);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key instanceof Error) return;
    const blob = Buffer.from(key.getPublicSSH()).toString("base64");
    const sudo = this.#settings.auth.username === "root" ? "" : "sudo ";
    const pattern = shellQuote(`\\|${blob}|d`);
    const command = [
      `sed -i.bak ${pattern} ~/.ssh/authorized_keys; rm -f ~/.ssh/authorized_keys.bak`,
      `${sudo}sed -i.bak ${pattern} /root/.ssh/authorized_keys; ${sudo}rm -f /root/.ssh/authorized_keys.bak`,
    ].join("; ");
    await execCommand(this.#link, { command }, { pty: false, agentForward: false }).catch(() => {});
  }

  /** Closes tunnels and the connection (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#clearAuthorizedKeys();
    this.#closed = true;
    await this.#tunnels?.close();
    this.#sftp?.then((sftp) => sftp.end(), () => {});
    const link = this.#link;
    link.close();
    if (link.isOpen()) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([link.closed, new Promise((r) => timer = setTimeout(r, 2000))]);
      clearTimeout(timer);
    }
  }
}
