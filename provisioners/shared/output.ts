/**
 * Command output as lines: chunks arrive split anywhere (even inside a UTF-8
 * sequence); users see whole lines as they complete, and the run log gets a
 * bounded summary instead of megabytes of build output.
 */

import type { OutputGuard } from "../../runtime/masker.ts";

/** Longest line held back waiting for its newline; longer output is passed on in pieces. */
export const MAX_PENDING = 64 * 1024;

/** Turns byte chunks into lines (without their `\n` or `\r\n`). */
export class LineSplitter {
  #decoder = new TextDecoder();
  #pending = "";
  #onLine: (line: string) => void;
  #guard?: OutputGuard;

  /**
   * `onLine` receives each completed line. With `guard`, a line too long to
   * hold is never cut inside a secret, nor where a secret may be still
   * arriving: the log masks whole secrets only.
   */
  constructor(onLine: (line: string) => void, guard?: OutputGuard) {
    this.#onLine = onLine;
    this.#guard = guard;
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
      const cut = this.#cutAt(this.#pending);
      this.#onLine(this.#pending.slice(0, cut));
      this.#pending = this.#pending.slice(cut);
    }
  }

  /**
   * Where to cut a held line: at MAX_PENDING, moved back so that the tail
   * that could begin a secret still arriving stays held, and forward past
   * any secret the cut would split.
   */
  #cutAt(text: string): number {
    const guard = this.#guard;
    if (!guard || guard.longest <= 1) return MAX_PENDING;
    let cut = Math.max(1, Math.min(MAX_PENDING, text.length - (guard.longest - 1)));
    for (const [start, end] of guard.spans(text)) {
      if (start < cut && end > cut) cut = end;
    }
    return cut;
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

  #guard?: OutputGuard;

  /**
   * Keeps at most `maxLines` lines of at most `maxLineLength` characters;
   * with `guard`, lines are masked before they are cut, so a cut never
   * leaves part of a secret the log could no longer recognise.
   */
  constructor(maxLines = 20, maxLineLength = 240, guard?: OutputGuard) {
    this.#maxLines = maxLines;
    this.#maxLineLength = maxLineLength;
    this.#guard = guard;
  }

  /** Counts raw bytes as they arrive. */
  addBytes(n: number): void {
    this.#bytes += n;
  }

  /** Records a complete line. */
  addLine(raw: string): void {
    this.#lines++;
    const line = this.#guard ? this.#guard.maskText(raw) : raw;
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
  #summary: OutputSummary;
  #lines: LineSplitter;

  /** `onLine` receives each completed line; `guard` keeps cuts out of secrets. */
  constructor(onLine?: (line: string) => void, guard?: OutputGuard) {
    this.#summary = new OutputSummary(20, 240, guard);
    this.#lines = new LineSplitter((line) => {
      this.#summary.addLine(line);
      onLine?.(line);
    }, guard);
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
