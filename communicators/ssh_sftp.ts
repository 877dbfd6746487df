/**
 * File transfer over the SFTP subsystem with pipelined requests: many
 * writes (or reads) in flight at once, so throughput is bound by the link
 * rather than by round trips. Sources are streamed, never buffered whole.
 */
import { Buffer } from "node:buffer";
import type { SFTPWrapper } from "ssh2";
import { DisconnectedError } from "./communicator.ts";
import type { SshLink } from "./ssh_connect.ts";
import { flattenTree, listLocalTree } from "./ssh_tree.ts";
import { TransferMemory } from "./ssh_memory.ts";
import { reusingChunks } from "./ssh_stream.ts";

const IN_FLIGHT = 32;
const PARALLEL_FILES = 8;

/**
 * The server offers no SFTP: sshd refused the subsystem, or what it started
 * ended before the SFTP version handshake (a Subsystem line naming a missing
 * binary). The scp transfer method falls back to the legacy scp protocol.
 */
export class SftpUnavailableError extends Error {}

/** A failed SFTP request: the server's status code and the path it was about. */
export class SftpError extends Error {
  /** SSH_FX_* status (2 no such file, 3 permission denied, 4 failure), when the server sent one. */
  readonly code: number | undefined;
  /** The remote path of the failed request. */
  readonly path: string;
  /** The request: open, write, read, mkdir, stat, readdir, close. */
  readonly op: string;
  /** The server's words for the failure. */
  readonly reason: string;

  constructor(op: string, path: string, cause: Error) {
    super(`sftp ${op} ${path}: ${cause.message}`);
    this.op = op;
    this.reason = cause.message;
    this.path = path;
    const code = (cause as { code?: unknown }).code;
    this.code = typeof code === "number" ? code : undefined;
  }
}

/** Opens an SFTP session on `link`. */
export function openSftp(link: SshLink): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    if (!link.isOpen()) return reject(new DisconnectedError("ssh connection is closed"));
    link.client.sftp((err: Error | undefined, sftp: SFTPWrapper) => {
      if (!err) return resolve(sftp);
      const message = `sftp subsystem: ${err.message}`;
      const absent = /Unable to start subsystem|while establishing SFTP session|unexpected SFTP/
        .test(err.message);
      if (!link.isOpen()) reject(new DisconnectedError(message));
      else reject(absent ? new SftpUnavailableError(message) : new Error(message));
    });
  });
}

function maxLen(sftp: SFTPWrapper, which: "_maxWriteLen" | "_maxReadLen"): number {
  const value = (sftp as unknown as Record<string, number>)[which];
  return typeof value === "number" && value > 0 ? value : 32768;
}

function call<T>(
  op: string,
  path: string,
  fn: (cb: (err: Error | null | undefined, value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((err, value) => err ? reject(new SftpError(op, path, err)) : resolve(value));
  });
}

/** Pipelined write of `src` to the remote file `dst`; returns the byte count. */
export async function sftpUpload(
  sftp: SFTPWrapper,
  dst: string,
  src: ReadableStream<Uint8Array>,
  mode = 0o644,
): Promise<number> {
  const handle = await call<Buffer>("open", dst, (cb) => sftp.open(dst, "w", { mode }, cb));
  const piece = maxLen(sftp, "_maxWriteLen");
  let offset = 0;
  let inFlight = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const settle = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onClose = () => {
    failure ??= new DisconnectedError(
      `sftp write ${dst}: the connection was lost after ${offset} bytes`,
    );
    settle();
  };
  sftp.once("close", onClose);
  const send = (buf: Buffer, position: number) => {
    inFlight++;
    sftp.write(handle, buf, 0, buf.length, position, (err: Error | undefined) => {
      inFlight--;
      if (err && !failure) failure = new SftpError("write", dst, err);
      settle();
    });
  };
  const memory = new TransferMemory();
  try {
    for await (const chunk of reusingChunks(src)) {
      memory.moved(chunk.length);
      if (failure) throw failure;
      const data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let i = 0; i < data.length; i += piece) {
        while (inFlight >= IN_FLIGHT && !failure) await new Promise<void>((r) => wake = r);
        if (failure) throw failure;
        // No copy: sftp.write copies the bytes into its request packet before it
        // returns, and a piece never exceeds the server's write limit, so ssh2
        // keeps no reference to `data` (which reusingChunks reuses).
        const part = data.subarray(i, i + piece);
        send(part, offset);
        offset += part.length;
      }
    }
    while (inFlight > 0 && !failure) await new Promise<void>((r) => wake = r);
    if (failure) throw failure;
  } finally {
    sftp.off("close", onClose);
    if (!(failure instanceof DisconnectedError)) {
      await call<void>("close", dst, (cb) => sftp.close(handle, cb)).catch(() => {});
    }
  }
  return offset;
}

/** Pipelined read of the remote file `src` into `dst`; returns the byte count. */
export async function sftpDownload(
  sftp: SFTPWrapper,
  src: string,
  dst: WritableStream<Uint8Array>,
): Promise<number> {
  const handle = await call<Buffer>("open", src, (cb) => sftp.open(src, "r", cb));
  const piece = maxLen(sftp, "_maxReadLen");
  const writer = dst.getWriter();
  let total = 0;
  try {
    const { size } = await call<{ size: number }>("stat", src, (cb) => sftp.fstat(handle, cb));
    const read = (position: number) =>
      call<Buffer>("read", src, (cb) => {
        const buf = Buffer.allocUnsafe(Math.min(piece, Math.max(size - position, 1)));
        sftp.read(handle, buf, 0, buf.length, position, (err: Error | undefined, n: number) =>
          cb(err, buf.subarray(0, n)));
      });
    const queue: Promise<Buffer>[] = [];
    let next = 0;
    while (next < size && queue.length < IN_FLIGHT) queue.push(read(next)), next += piece;
    const memory = new TransferMemory();
    while (queue.length > 0) {
      const buf = await queue.shift()!;
      memory.moved(buf.length);
      if (buf.length > 0) {
        await writer.write(new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
      }
      total += buf.length;
      if (next < size) queue.push(read(next)), next += piece;
    }
    // The file may have grown since fstat; read on until EOF.
    while (true) {
      const buf = await read(total).catch(() => Buffer.alloc(0));
      if (buf.length === 0) break;
      await writer.write(new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
      total += buf.length;
    }
    await writer.close();
  } catch (err) {
    await writer.abort(err).catch(() => {});
    throw err;
  } finally {
    await call<void>("close", src, (cb) => sftp.close(handle, cb)).catch(() => {});
  }
  return total;
}

async function mkdirp(sftp: SFTPWrapper, path: string, mode: number): Promise<void> {
  try {
    await call<void>("mkdir", path, (cb) => sftp.mkdir(path, { mode }, cb));
  } catch (err) {
    const exists = await call<{ isDirectory(): boolean }>("stat", path, (cb) => sftp.stat(path, cb))
      .catch(() => undefined);
    if (!exists?.isDirectory()) throw err;
  }
}

async function runLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  });
  await Promise.all(workers);
}

/** Uploads a local directory with rsync's trailing-slash rule; returns the byte count. */
export async function sftpUploadDir(
  sftp: SFTPWrapper,
  dst: string,
  src: string,
  exclude: string[] = [],
): Promise<number> {
  const items = flattenTree(await listLocalTree(src, exclude));
  const base = dst.replace(/\/+$/, "") || "/";
  const join = (rel: string) => base === "/" ? `/${rel}` : `${base}/${rel}`;
  let bytes = 0;
  for (const { rel, entry } of items) {
    if (entry.kind === "dir") await mkdirp(sftp, join(rel), entry.mode & 0o7777);
  }
  await runLimited(
    items.filter((i) => i.entry.kind === "file"),
    PARALLEL_FILES,
    async ({ rel, entry }) => {
      const file = await Deno.open(entry.path, { read: true });
      bytes += await sftpUpload(sftp, join(rel), file.readable, entry.mode & 0o7777);
    },
  );
  return bytes;
}

interface RemoteEntry {
  filename: string;
  attrs: { mode: number; isDirectory(): boolean; isFile(): boolean };
}

async function downloadTree(sftp: SFTPWrapper, remote: string, local: string): Promise<number> {
  const list = await call<RemoteEntry[]>("readdir", remote, (cb) => sftp.readdir(remote, cb));
  let bytes = 0;
  for (const item of list) {
    bytes += await downloadEntry(
      sftp,
      `${remote}/${item.filename}`,
      `${local}/${item.filename}`,
      item.attrs,
    );
  }
  return bytes;
}

async function downloadEntry(
  sftp: SFTPWrapper,
  remote: string,
  local: string,
  attrs: RemoteEntry["attrs"],
): Promise<number> {
  if (attrs.isDirectory()) {
    await Deno.mkdir(local, { recursive: true, mode: attrs.mode & 0o7777 });
    return await downloadTree(sftp, remote, local);
  }
  if (!attrs.isFile()) return 0;
  const file = await Deno.open(local, {
    write: true,
    create: true,
    truncate: true,
    mode: attrs.mode & 0o7777,
  });
  return await sftpDownload(sftp, remote, file.writable);
}

function globRegex(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${body}$`);
}

/**
 * Downloads a remote directory into `dst/<its name>` like Packer's scp
 * DownloadDir; a glob in the last path component copies the matches into `dst`.
 */
export async function sftpDownloadDir(
  sftp: SFTPWrapper,
  src: string,
  dst: string,
): Promise<number> {
  await Deno.mkdir(dst, { recursive: true });
  const trimmed = src.replace(/\/+$/, "") || "/";
  const slash = trimmed.lastIndexOf("/");
  const parent = slash <= 0 ? (slash === 0 ? "/" : ".") : trimmed.slice(0, slash);
  const last = trimmed.slice(slash + 1);
  if (/[*?[]/.test(last)) {
    const re = globRegex(last);
    const list = await call<RemoteEntry[]>("readdir", parent, (cb) => sftp.readdir(parent, cb));
    let bytes = 0;
    for (const item of list.filter((i) => re.test(i.filename) && !i.filename.startsWith("."))) {
      bytes += await downloadEntry(
        sftp,
        `${parent}/${item.filename}`,
        `${dst}/${item.filename}`,
        item.attrs,
      );
    }
    return bytes;
  }
  const attrs = await call<RemoteEntry["attrs"]>("stat", trimmed, (cb) => sftp.stat(trimmed, cb));
  return await downloadEntry(sftp, trimmed, `${dst}/${last}`, attrs);
}
