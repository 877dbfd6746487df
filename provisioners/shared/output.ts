/**
 * Command output as lines: chunks arrive split anywhere (even inside a UTF-8
 * sequence); users see whole lines as they complete, and the run log gets a
 * bounded summary instead of megabytes of build output.
 */

/** Longest line held back waiting for its newline; longer output is passed on in pieces. */
const MAX_PENDING = 64 * 1024;

/** Turns byte chunks into lines (without their `\n` or `\r\n`). */
export class LineSplitter {
  #decoder = new TextDecoder();
  #pending = "";
  #onLine: (line: string) => void;

  /** `onLine` receives each completed line. */
  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  /** Feeds a chunk; emits the lines it completes. */
  push(chunk: Uint8Array): void {
    const text = this.#pending + this.#decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      this.#onLine(text.slice(start, nl).replace(/\r$/, ""));
      start = nl + 1;
    }
    this.#pending = text.slice(start);
    // Output without newlines (a progress bar, a binary dump) must not grow without bound.
    while (this.#pending.length > MAX_PENDING) {
      this.#onLine(this.#pending.slice(0, MAX_PENDING));
      this.#pending = this.#pending.slice(MAX_PENDING);
    }
  }

  /** Emits a last line that had no newline. */
  flush(): void {
    this.#pending += this.#decoder.decode();
    if (this.#pending !== "") this.#onLine(this.#pending.replace(/\r$/, ""));
    this.#pending = "";
  }
}

/** A bounded record of one stream's output. */
export interface StreamSummary {
  bytes: number;
  lines: number;
  /** The last lines (each cut to a maximum length). */
  tail: string[];
}

/** Keeps counts and the last few lines of a stream. */
export class OutputSummary {
  #bytes = 0;
  #lines = 0;
  #tail: string[] = [];
  #maxLines: number;
  #maxLineLength: number;

  /** Keeps at most `maxLines` lines of at most `maxLineLength` characters. */
  constructor(maxLines = 20, maxLineLength = 240) {
    this.#maxLines = maxLines;
    this.#maxLineLength = maxLineLength;
  }

  /** Counts raw bytes as they arrive. */
  addBytes(n: number): void {
    this.#bytes += n;
  }

  /** Records a complete line. */
  addLine(line: string): void {
    this.#lines++;
    const cut = line.length > this.#maxLineLength ? `${line.slice(0, this.#maxLineLength)}…` : line;
    this.#tail.push(cut);
    if (this.#tail.length > this.#maxLines) this.#tail.shift();
  }

  /** The summary so far. */
  summary(): StreamSummary {
    return { bytes: this.#bytes, lines: this.#lines, tail: [...this.#tail] };
  }
}

/** One output stream as it arrives: whole lines to a listener, and a bounded summary of it all. */
export class SummarizedStream {
  #summary = new OutputSummary();
  #lines: LineSplitter;

  /** `onLine` receives each completed line. */
  constructor(onLine?: (line: string) => void) {
    this.#lines = new LineSplitter((line) => {
      this.#summary.addLine(line);
      onLine?.(line);
    });
  }

  /** Feeds a chunk of raw output. */
  push(chunk: Uint8Array): void {
    this.#summary.addBytes(chunk.length);
    this.#lines.push(chunk);
  }

  /** Emits a last line that had no newline. */
  flush(): void {
    this.#lines.flush();
  }

  /** The summary so far. */
  summary(): StreamSummary {
    return this.#summary.summary();
  }
}
