/**
 * The scp protocol over an exec channel, as Packer does it: `scp -t` on the
 * remote side receives files ("C" records) and directories ("D" … "E"),
 * `scp -f` sends them. Data is streamed; nothing is held whole in memory.
 */
import { Buffer } from "node:buffer";
import type { ClientChannel } from "ssh2";
import { DisconnectedError } from "./communicator.ts";
import { openExec } from "./ssh_exec.ts";
import type { SshLink } from "./ssh_connect.ts";
import { ChannelReader, writeChannel } from "./ssh_stream.ts";
import { shellQuote } from "./ssh_quote.ts";
import { TransferMemory } from "./ssh_memory.ts";
import { listLocalTree, type LocalEntry } from "./ssh_tree.ts";

/** An scp session: the remote scp process and a reader over its stdout. */
interface Session {
  channel: ClientChannel;
  reader: ChannelReader;
  stderr: () => string;
  done: Promise<number | undefined>;
  /** False once the channel or the connection under it has closed. */
  alive: () => boolean;
}

async function openSession(link: SshLink, command: string): Promise<Session> {
  const { channel, exitStatus } = await openExec(link, command, {
    pty: false,
    agentForward: false,
  });
  let err = "";
  channel.stderr.on("data", (chunk: Buffer) => {
    if (err.length < 4096) err += chunk.toString();
  });
  const reader = new ChannelReader(channel);
  const done = new Promise<number | undefined>((resolve) => {
    channel.on("close", () => resolve(exitStatus()));
  });
  let closed = false;
  done.then(() => closed = true);
  return { channel, reader, stderr: () => err.trim(), done, alive: () => !closed && link.isOpen() };
}

async function expectOk(s: Session, what: string): Promise<void> {
  let code: number;
  try {
    code = await s.reader.byte();
  } catch (err) {
    const detail = s.stderr() || (err as Error).message;
    throw new Error(`scp ${what}: ${detail}`);
  }
  if (code === 0) return;
  const message = await s.reader.line().catch(() => "");
  throw new Error(`scp ${what}: ${message || s.stderr() || `status ${code}`}`);
}

async function finish(s: Session, what: string): Promise<void> {
  s.channel.end();
  const code = await s.done;
  if (code !== undefined && code !== 0) {
    throw new Error(`scp ${what}: remote scp exited ${code}${s.stderr() ? `: ${s.stderr()}` : ""}`);
  }
}

function remoteDir(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

async function sendStream(
  s: Session,
  src: ReadableStream<Uint8Array>,
  size: number,
  what: string,
): Promise<number> {
  let sent = 0;
  const memory = new TransferMemory();
  for await (const chunk of src) {
    memory.moved(chunk.length);
    if (!s.alive()) {
      throw new DisconnectedError(`scp ${what}: the connection was lost after ${sent} bytes`);
    }
    sent += chunk.length;
    if (sent > size) {
      throw new Error(`scp ${what}: the source grew past its announced ${size} bytes`);
    }
    const wait = writeChannel(s.channel, chunk);
    if (wait) await wait;
  }
  if (sent !== size) {
    throw new Error(`scp ${what}: the source ended after ${sent} of ${size} bytes`);
  }
  await writeChannel(s.channel, new Uint8Array([0]));
  return sent;
}

/** Uploads one file of known size to the remote path `dst`. */
export async function scpUpload(
  link: SshLink,
  dst: string,
  src: ReadableStream<Uint8Array>,
  size: number,
  mode = 0o644,
): Promise<void> {
  const s = await openSession(link, `scp -t ${shellQuote(remoteDir(dst))}`);
  try {
    await expectOk(s, `to ${dst}`);
    s.channel.write(`C${(mode & 0o7777).toString(8).padStart(4, "0")} ${size} ${baseName(dst)}\n`);
    await expectOk(s, `to ${dst}`);
    await sendStream(s, src, size, `to ${dst}`);
    await expectOk(s, `to ${dst}`);
  } catch (err) {
    s.channel.close();
    throw err;
  }
  await finish(s, `to ${dst}`);
}

async function sendTree(s: Session, entries: LocalEntry[], what: string): Promise<void> {
  for (const entry of entries) {
    const mode = (entry.mode & 0o7777).toString(8).padStart(4, "0");
    if (entry.kind === "dir") {
      s.channel.write(`D${mode} 0 ${entry.name}\n`);
      await expectOk(s, what);
      await sendTree(s, entry.children ?? [], what);
      s.channel.write("E\n");
      await expectOk(s, what);
      continue;
    }
    const file = await Deno.open(entry.path, { read: true });
    const { size } = await file.stat();
    s.channel.write(`C${mode} ${size} ${entry.name}\n`);
    await expectOk(s, what);
    await sendStream(s, file.readable, size, what);
    await expectOk(s, what);
  }
}

/**
 * Uploads the local directory `src` into the remote directory `dst` with
 * rsync's rule: without a trailing slash the directory itself is created
 * in `dst`; with one, only its contents are copied.
 */
export async function scpUploadDir(
  link: SshLink,
  dst: string,
  src: string,
  exclude: string[] = [],
): Promise<void> {
  const tree = await listLocalTree(src, exclude);
  const s = await openSession(link, `scp -rt ${shellQuote(dst)}`);
  const what = `of ${src} to ${dst}`;
  try {
    await expectOk(s, what);
    await sendTree(s, tree, what);
  } catch (err) {
    s.channel.close();
    throw err;
  }
  await finish(s, what);
}

async function receiveFile(
  s: Session,
  size: number,
  write: (chunk: Uint8Array) => Promise<unknown>,
  what: string,
) {
  let left = size;
  const memory = new TransferMemory();
  while (left > 0) {
    const chunk = await s.reader.take(Math.min(left, 1 << 20));
    left -= chunk.length;
    memory.moved(chunk.length);
    await write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  await expectOk(s, what);
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.length;) done += await file.write(data.subarray(done));
}

const RECORD = /^([CD])([0-7]{4}) (\d+) (.+)$/;

/** Downloads the remote file `src` into `dst`. */
export async function scpDownload(
  link: SshLink,
  src: string,
  dst: WritableStream<Uint8Array>,
): Promise<void> {
  const s = await openSession(link, `scp -f ${shellQuote(src)}`);
  const what = `from ${src}`;
  const sink = dst.getWriter();
  try {
    s.channel.write(Buffer.from([0]));
    const line = await readRecord(s, what);
    const m = line.match(RECORD);
    if (!m || m[1] !== "C") throw new Error(`scp ${what}: not a regular file`);
    s.channel.write(Buffer.from([0]));
    await receiveFile(s, Number(m[3]), (c) => sink.write(c.slice()), what);
    s.channel.write(Buffer.from([0]));
    await sink.close();
  } catch (err) {
    s.channel.close();
    await sink.abort(err).catch(() => {});
    throw err;
  }
  await finish(s, what);
}

async function readRecord(s: Session, what: string): Promise<string> {
  const type = await s.reader.byte().catch((err) => {
    throw new Error(`scp ${what}: ${s.stderr() || err.message}`);
  });
  const rest = await s.reader.line();
  if (type === 1 || type === 2) throw new Error(`scp ${what}: ${rest}`);
  return String.fromCharCode(type) + rest;
}

/**
 * Downloads a remote directory (`scp -rf`): the directory itself is created
 * in `dst` (Packer's behaviour); a glob source copies the matches into `dst`.
 */
export async function scpDownloadDir(link: SshLink, src: string, dst: string): Promise<void> {
  // A glob must reach the remote shell unquoted so it expands there.
  const arg = /[*?[]/.test(src) ? src : shellQuote(src);
  const s = await openSession(link, `scp -rf ${arg}`);
  const what = `from ${src}`;
  const stack = [dst];
  try {
    await Deno.mkdir(dst, { recursive: true });
    while (true) {
      s.channel.write(Buffer.from([0]));
      let line: string;
      try {
        line = await readRecord(s, what);
      } catch (err) {
        if (stack.length === 1 && (await s.done) === 0) break; // a glob source: no "E" closes it
        throw err;
      }
      if (line.startsWith("E")) {
        stack.pop();
        if (stack.length === 0) break;
        continue;
      }
      if (line.startsWith("T")) continue;
      const m = line.match(RECORD);
      if (!m) throw new Error(`scp ${what}: unexpected record "${line.slice(0, 60)}"`);
      const name = m[4];
      if (name.includes("/") || name === ".." || name === ".") {
        throw new Error(`scp ${what}: refusing unsafe name "${name}"`);
      }
      const target = `${stack.join("/")}/${name}`;
      if (m[1] === "D") {
        await Deno.mkdir(target, { recursive: true, mode: parseInt(m[2], 8) });
        stack.push(name);
        continue;
      }
      s.channel.write(Buffer.from([0]));
      const file = await Deno.open(target, {
        write: true,
        create: true,
        truncate: true,
        mode: parseInt(m[2], 8),
      });
      try {
        await receiveFile(s, Number(m[3]), (c) => writeAll(file, c), what);
      } finally {
        file.close();
      }
    }
  } catch (err) {
    s.channel.close();
    throw err;
  }
  await finish(s, what);
}
