/**
 * A command running in a test shell: its stdin (fed by Send), its output
 * (queued in order until a Receive takes it, sized to the client's
 * MaxEnvelopeSize), its exit code, and terminate.
 */
import { Buffer } from "node:buffer";
import type { StreamChunk } from "./replies.ts";

/** Exit code a terminated command reports (STATUS_CONTROL_C_EXIT, as cmd shows it). */
export const TERMINATED_EXIT_CODE = -1073741510;

/** Bytes written to a command's stdin, read in order. */
export class StdinQueue {
  #chunks: Uint8Array[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  push(bytes: Uint8Array): void {
    if (bytes.length) this.#chunks.push(bytes);
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The next chunk, or null at end of input (or when `signal` aborts). */
  async read(signal?: AbortSignal): Promise<Uint8Array | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended || signal?.aborted) return null;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        signal?.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    return this.#chunks.shift()!;
  }

  /** Lines of text (CR LF or LF), the last one even without a newline. */
  async *lines(signal?: AbortSignal): AsyncGenerator<string> {
    let text = "";
    while (true) {
      const chunk = await this.read(signal);
      if (chunk === null) break;
      text += Buffer.from(chunk).toString("latin1");
      const parts = text.split("\n");
      text = parts.pop()!;
      for (const line of parts) yield line.replace(/\r$/, "");
    }
    if (text) yield text;
  }
}

/** One command of a shell. */
export class RunningCommand {
  readonly id = crypto.randomUUID().toUpperCase();
  readonly stdin = new StdinQueue();
  readonly abort = new AbortController();
  exitCode: number | undefined;
  #out: { name: "stdout" | "stderr"; bytes: Uint8Array }[] = [];
  #waiters = new Set<() => void>();

  constructor(readonly commandLine: string) {}

  #notify() {
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Queues output for the next Receive. */
  write(name: "stdout" | "stderr", bytes: Uint8Array): void {
    if (this.exitCode !== undefined || bytes.length === 0) return;
    this.#out.push({ name, bytes });
    this.#notify();
  }

  /** Records the exit code (the first one wins: terminate beats a late natural exit). */
  finish(code: number): void {
    if (this.exitCode !== undefined) return;
    this.exitCode = code;
    this.#notify();
  }

  /** Terminates: the running work is aborted and the command is done at once. */
  terminate(): void {
    this.abort.abort(new Error("terminated by the client"));
    this.stdin.end();
    this.finish(TERMINATED_EXIT_CODE);
  }

  /** Waits until output is queued or the command is done; false when `ms` passed first. */
  async ready(ms: number, cancel: AbortSignal): Promise<boolean> {
    if (this.#out.length || this.exitCode !== undefined) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    const got = await new Promise<boolean>((resolve) => {
      wake = () => resolve(true);
      this.#waiters.add(wake);
      timer = setTimeout(() => resolve(false), ms);
      cancel.addEventListener("abort", () => resolve(true), { once: true });
    });
    clearTimeout(timer);
    if (wake) this.#waiters.delete(wake);
    return got;
  }

  /**
   * Takes queued output up to `maxBase64` characters of base64, in order;
   * `done` is the exit code once everything has been taken.
   */
  take(maxBase64: number): { chunks: StreamChunk[]; done: number | undefined } {
    const chunks: StreamChunk[] = [];
    let budget = Math.floor(maxBase64 / 4) * 3;
    while (this.#out.length && budget > 0) {
      const head = this.#out[0];
      const n = Math.min(head.bytes.length, budget);
      const bytes = head.bytes.subarray(0, n);
      if (n === head.bytes.length) this.#out.shift();
      else head.bytes = head.bytes.subarray(n);
      budget -= n;
      chunks.push({ name: head.name, base64: Buffer.from(bytes).toString("base64") });
    }
    return { chunks, done: this.#out.length === 0 ? this.exitCode : undefined };
  }
}
