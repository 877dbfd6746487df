/**
 * Remote command output: split into lines for the UI as it streams, and a
 * bounded summary (head and tail, counts) for the event log so large output
 * is summarised rather than stored whole.
 */

const KEEP = 2048;

/** Feeds bytes in, emits complete lines; `flush()` emits the remainder. */
export class LineSplitter {
  #decoder = new TextDecoder();
  #partial = "";
  #emit: (line: string) => void;

  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }

  /** Adds a chunk of output. */
  push(chunk: Uint8Array): void {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) this.#emit(line.replace(/\r$/, ""));
  }

  /** Emits a trailing line without a newline. */
  flush(): void {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = "";
    if (rest !== "") this.#emit(rest.replace(/\r$/, ""));
  }
}

/** Keeps the first and last few KiB of a stream plus totals. */
export class OutputSummary {
  bytes = 0;
  lines = 0;
  #head = "";
  #tail = "";

  /** Records one output line. */
  add(line: string): void {
    this.lines++;
    this.bytes += line.length + 1;
    if (this.#head.length < KEEP) {
      this.#head += line.slice(0, KEEP - this.#head.length) + "\n";
    } else {
      this.#tail = (this.#tail + line + "\n").slice(-KEEP);
    }
  }

  /** The JSON summary for the event log. */
  toJSON(): Record<string, unknown> {
    const truncated = this.bytes > this.#head.length + this.#tail.length;
    return { bytes: this.bytes, lines: this.lines, head: this.#head, tail: this.#tail, truncated };
  }
}
