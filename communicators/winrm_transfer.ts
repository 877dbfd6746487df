/**
 * File transfer over one WinRS command (see winrm_scripts.ts for the line
 * protocol). Uploads fill every Send to the envelope limit with one base64
 * line, so a 16 MiB file takes about 60 round trips at 500 KB envelopes
 * (Packer's `echo` chunks take thousands); downloads decode stdout as it
 * streams in. Both sides verify size and SHA-256 of every file.
 */
import { Buffer } from "node:buffer";
import { createHash, type Hash } from "node:crypto";
import type { WinrmCommand, WinrmShell } from "./winrm_shell.ts";
import {
  type DownloadMode,
  downloadScript,
  powershellCommand,
  uploadScript,
} from "./winrm_scripts.ts";

/** One thing to create remotely. */
export type UploadEntry =
  | { kind: "dir"; path: string }
  | { kind: "file"; path: string; open: () => Promise<ReadableStream<Uint8Array>> };

/** Called after each Send with file bytes sent so far and the total, when known. */
export type Progress = (sent: number, total?: number) => void;

const encoder = new TextEncoder();

function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/** Packs stdin lines into as few Sends as the envelope size allows. */
class StdinPacker {
  #pending: Uint8Array[] = [];
  #size = 0;
  constructor(private readonly cmd: WinrmCommand, private readonly onSent: () => void) {}

  get room(): number {
    return this.cmd.maxSendBytes - this.#size;
  }

  async line(text: string): Promise<void> {
    const bytes = encoder.encode(`${text}\n`);
    if (bytes.length > this.room) await this.flush();
    this.#pending.push(bytes);
    this.#size += bytes.length;
  }

  async flush(end = false): Promise<void> {
    if (this.#size === 0 && !end) return;
    const data = this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#size = 0;
    await this.cmd.send(data, end);
    this.onSent();
  }
}

/** Reads a stream in pieces of exactly `size` bytes (the last one shorter). */
async function* pieces(stream: ReadableStream<Uint8Array>, size: () => number) {
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  for await (const chunk of stream) {
    held.push(chunk);
    heldBytes += chunk.length;
    while (heldBytes >= size()) {
      const all = Buffer.concat(held);
      const n = size();
      yield all.subarray(0, n);
      held = [all.subarray(n)];
      heldBytes = all.length - n;
    }
  }
  if (heldBytes > 0) yield Buffer.concat(held);
}

/** Runs the transfer command, collecting stderr for the error message. */
async function runTransfer(
  shell: WinrmShell,
  script: string,
  what: string,
  work: (cmd: WinrmCommand) => Promise<void>,
  stdout?: (chunk: Uint8Array) => void,
  drain?: () => Promise<void>,
): Promise<void> {
  const cmd = await shell.start(powershellCommand(script));
  const errors: Uint8Array[] = [];
  const exited = cmd.output({ stdout, stderr: (c) => errors.push(c), drain });
  exited.catch(() => {});
  let code: number;
  try {
    await work(cmd);
    code = await exited;
  } catch (err) {
    // A script that failed (bad path, access denied) ends the command, so the next Send is
    // refused: its own message says more than the refusal.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const early = await Promise.race([exited, new Promise((r) => timer = setTimeout(r, 10_000))])
      .catch(() => undefined);
    clearTimeout(timer);
    if (typeof early === "number" && early !== 0 && errors.length) {
      throw new Error(`${what} failed: ${Buffer.concat(errors).toString("utf8").trim()}`);
    }
    throw err;
  } finally {
    await cmd.terminate().catch(() => {});
  }
  if (code !== 0) {
    const text = Buffer.concat(errors).toString("utf8").trim() || `exit code ${code}`;
    throw new Error(`${what} failed: ${text}`);
  }
}

/** Uploads `entries` in one command; `total` is the sum of file sizes when known. */
export async function uploadEntries(
  shell: WinrmShell,
  entries: UploadEntry[],
  what: string,
  progress?: Progress,
  total?: number,
): Promise<void> {
  let sent = 0;
  let pendingBytes = 0;
  await runTransfer(shell, uploadScript(), what, async (cmd) => {
    const packer = new StdinPacker(cmd, () => {
      sent += pendingBytes;
      pendingBytes = 0;
      progress?.(sent, total);
    });
    // One base64 line as long as a whole Send allows.
    const chunk = () => Math.floor((cmd.maxSendBytes - 1) / 4) * 3;
    for (const entry of entries) {
      if (entry.kind === "dir") {
        await packer.line(`>D ${b64(entry.path)}`);
        continue;
      }
      await packer.line(`>F ${b64(entry.path)}`);
      const hash: Hash = createHash("sha256");
      let size = 0;
      // Fill what is left of the current Send first, then whole Sends.
      const room = () => {
        const left = Math.floor((packer.room - 1) / 4) * 3;
        return left >= 4096 ? Math.min(left, chunk()) : chunk();
      };
      for await (const piece of pieces(await entry.open(), room)) {
        hash.update(piece);
        size += piece.length;
        await packer.line(Buffer.from(piece).toString("base64"));
        pendingBytes += piece.length;
      }
      await packer.line(`>E ${size} ${hash.digest("hex")}`);
    }
    await packer.flush(true);
  });
}

/** Where a download writes: one stream, or files under a local directory. */
export type DownloadSink =
  | { kind: "stream"; writer: WritableStreamDefaultWriter<Uint8Array> }
  | { kind: "dir"; root: string };

function safeRel(rel: string, what: string): string {
  const parts = rel.split(/[\\/]/);
  if (rel === "" || rel.startsWith("/") || parts.some((p) => p === ".." || p === "")) {
    throw new Error(`${what}: refusing unsafe path "${rel}" from the machine`);
  }
  return parts.join("/");
}

/** Parses the download line protocol from stdout and writes what it describes. */
class DownloadParser {
  #text = "";
  #queue: Promise<void> = Promise.resolve();
  #file: { write(b: Uint8Array): Promise<void>; close(): Promise<void> } | undefined;
  #hash: Hash | undefined;
  #size = 0;
  #name = "";
  files = 0;

  constructor(private readonly sink: DownloadSink, private readonly what: string) {}

  push(chunk: Uint8Array): void {
    this.#text += Buffer.from(chunk).toString("latin1");
    const end = this.#text.lastIndexOf("\n");
    if (end < 0) return;
    const lines = this.#text.slice(0, end).split("\n");
    this.#text = this.#text.slice(end + 1);
    this.#queue = this.#queue.then(async () => {
      for (const raw of lines) await this.#line(raw.replace(/\r$/, ""));
    });
  }

  /** Waits until everything pushed so far is on disk. */
  drain(): Promise<void> {
    return this.#queue;
  }

  async #line(line: string): Promise<void> {
    if (line === "") return;
    if (!line.startsWith(">")) {
      if (!this.#file || !this.#hash) throw new Error(`${this.what}: data outside a file`);
      const bytes = Buffer.from(line, "base64");
      this.#hash.update(bytes);
      this.#size += bytes.length;
      await this.#file.write(bytes);
      return;
    }
    const [tag, arg, sha] = line.slice(1).split(" ");
    if (tag === "D" && this.sink.kind === "dir") {
      const rel = safeRel(Buffer.from(arg, "base64").toString("utf8"), this.what);
      await Deno.mkdir(`${this.sink.root}/${rel}`, { recursive: true });
    } else if (tag === "F") {
      this.#name = Buffer.from(arg, "base64").toString("utf8");
      this.#hash = createHash("sha256");
      this.#size = 0;
      this.#file = await this.#open(this.#name);
    } else if (tag === "E") {
      const digest = this.#hash?.digest("hex");
      await this.#file?.close();
      this.#file = undefined;
      this.files++;
      if (Number(arg) !== this.#size || sha !== digest) {
        throw new Error(
          `${this.what}: ${this.#name} arrived with ${this.#size} bytes (sha256 ${digest}), ` +
            `the machine sent ${arg} (sha256 ${sha})`,
        );
      }
    }
  }

  async #open(name: string) {
    if (this.sink.kind === "stream") {
      const writer = this.sink.writer;
      return { write: (b: Uint8Array) => writer.write(b), close: () => Promise.resolve() };
    }
    const file = await Deno.open(`${this.sink.root}/${safeRel(name, this.what)}`, {
      write: true,
      create: true,
      truncate: true,
    });
    return {
      write: async (b: Uint8Array) => {
        for (let done = 0; done < b.length;) done += await file.write(b.subarray(done));
      },
      close: () => Promise.resolve(file.close()),
    };
  }
}

/** Downloads `src` into `sink`; resolves with the number of files written. */
export async function downloadInto(
  shell: WinrmShell,
  src: string,
  mode: DownloadMode,
  sink: DownloadSink,
  what: string,
): Promise<number> {
  const parser = new DownloadParser(sink, what);
  await runTransfer(
    shell,
    downloadScript(src, mode),
    what,
    () => Promise.resolve(),
    (c) => parser.push(c),
    () => parser.drain(),
  );
  parser.push(new Uint8Array([10]));
  await parser.drain();
  return parser.files;
}
