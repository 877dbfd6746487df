/**
 * Byte-level helpers over an ssh2 channel: a pull reader (lines, exact
 * counts, streamed spans) for the scp protocol, a backpressure-aware write,
 * and chunking of local sources without buffering whole files.
 */
import { Buffer } from "node:buffer";
import type { ClientChannel } from "ssh2";

/** Pulls bytes from a channel's stdout on demand. */
export class ChannelReader {
  #chunks: Buffer[] = [];
  #size = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(channel: ClientChannel) {
    channel.on("data", (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#size += chunk.length;
      this.#notify();
    });
    channel.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
    channel.on("error", (err: Error) => {
      this.#error = err;
      this.#notify();
    });
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #fill(): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#ended) throw new Error("the remote scp closed the channel unexpectedly");
    await new Promise<void>((r) => this.#wake = r);
  }

  /** Takes up to `max` bytes (at least one), waiting for data. */
  async take(max: number): Promise<Buffer> {
    while (this.#size === 0) await this.#fill();
    const head = this.#chunks[0];
    if (head.length <= max) {
      this.#chunks.shift();
      this.#size -= head.length;
      return head;
    }
    this.#chunks[0] = head.subarray(max);
    this.#size -= max;
    return head.subarray(0, max);
  }

  /** One byte. */
  async byte(): Promise<number> {
    return (await this.take(1))[0];
  }

  /** A line without its "\n". */
  async line(): Promise<string> {
    const parts: Buffer[] = [];
    while (true) {
      while (this.#size === 0) await this.#fill();
      const head = this.#chunks[0];
      const nl = head.indexOf(10);
      if (nl >= 0) {
        parts.push(await this.take(nl + 1));
        return Buffer.concat(parts).toString("utf8").slice(0, -1);
      }
      parts.push(await this.take(head.length));
    }
  }
}

/**
 * Bytes allowed to queue in a channel before writes wait. Waiting for
 * "drain" at ssh2's small default high-water mark stalls the pipe once per
 * chunk; a few MiB keeps the link busy while memory stays bounded.
 */
const QUEUE_LIMIT = 4 << 20;

/** Writes with backpressure: waits for "drain" once too much is queued. */
export function writeChannel(channel: ClientChannel, data: Uint8Array): Promise<void> | undefined {
  if (channel.write(data) || channel.writableLength < QUEUE_LIMIT) return undefined;
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      channel.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      channel.off("drain", onDrain);
      reject(new Error("the remote side closed the channel during the transfer"));
    };
    channel.once("drain", onDrain);
    channel.once("close", onClose);
  });
}

/** Turns bytes or a stream into a stream. */
export function asStream(src: Uint8Array | ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  if (!(src instanceof Uint8Array)) return src;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(src);
      controller.close();
    },
  });
}

/** Copies a stream of unknown length to a temp file (scp needs the size up front). */
export async function spoolToTempFile(
  src: ReadableStream<Uint8Array>,
): Promise<{ path: string; size: number }> {
  const path = await Deno.makeTempFile({ prefix: "kiln-upload-" });
  const file = await Deno.open(path, { write: true, truncate: true });
  await src.pipeTo(file.writable);
  const { size } = await Deno.stat(path);
  return { path, size };
}

/**
 * Reads `src` into one reused buffer when it is a byte stream (a file's
 * `readable` is), so a long upload allocates nothing per chunk and leaves V8
 * no garbage to collect; other streams yield their own chunks. A yielded view
 * is valid only until the next one is requested: consumers must copy what
 * they keep (sftp's write copies into its request packet before returning).
 */
export async function* reusingChunks(
  src: ReadableStream<Uint8Array>,
  bufferSize = 256 << 10,
): AsyncGenerator<Uint8Array> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = src.getReader({ mode: "byob" });
  } catch {
    yield* src;
    return;
  }
  let buffer = new ArrayBuffer(bufferSize);
  try {
    while (true) {
      const { value, done } = await reader.read(new Uint8Array(buffer));
      if (done || !value) return;
      yield value;
      buffer = value.buffer as ArrayBuffer;
    }
  } finally {
    reader.releaseLock();
  }
}
