/**
 * Lines to stdout in batches: a replay of millions of records must neither
 * hold its output in memory nor pay one write per line.
 */
import { stdoutSink } from "../runtime/stdout_sink.ts";

/** Buffers text and writes it to stdout in chunks of about 64 KiB. */
export class StdoutBuffer {
  #pending: string[] = [];
  #size = 0;

  /** Queues `text`; writes when enough has gathered. */
  write(text: string): void {
    this.#pending.push(text);
    this.#size += text.length;
    if (this.#size >= 64 * 1024) this.flush();
  }

  /** Writes everything queued. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join("");
    this.#pending = [];
    this.#size = 0;
    // A reader that left (`| head`) ends the output quietly (see stdoutSink).
    stdoutSink(text);
  }
}
