/**
 * The live terminal: prints rendered events and, on a TTY, keeps a status
 * line at the bottom with each running build's current activity and elapsed
 * time. Plain lines otherwise (pipes, CI, `-machine-readable`).
 */
import type { EventRecord } from "./events.ts";
import { EventType as E } from "./events.ts";
import { Renderer, type RenderOptions } from "./render.ts";
import { shortDuration } from "./duration.ts";
import { stdoutSink } from "./stdout_sink.ts";

/** Where rendered text goes; stdout by default. */
export type TextSink = (text: string) => void;

/** Set while a question waits for an answer: the status line must not overwrite it. */
export const promptState = { active: false };

/**
 * Whether output is coloured when no -color flag says: on a TTY, unless
 * PACKER_NO_COLOR (Packer's switch) or NO_COLOR (no-color.org) is set to
 * anything non-empty.
 */
export function defaultColor(): boolean {
  return Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR") && !Deno.env.get("PACKER_NO_COLOR");
}

/** Options for the live terminal. */
export interface TerminalOptions extends RenderOptions {
  /** Draw the progress line (only sensible on a TTY). */
  progress: boolean;
  sink?: TextSink;
}

/** Consumes the run's events and shows them. */
export class Terminal {
  #renderer: Renderer;
  #sink: TextSink;
  #progress: boolean;
  #color: boolean;
  #activity = new Map<string, { label: string; since: number; build: number }>();
  #buildStart = new Map<string, number>();
  #timer?: ReturnType<typeof setInterval>;
  #statusShown = false;
  #broken = false;

  constructor(opts: TerminalOptions) {
    this.#renderer = new Renderer(opts);
    this.#sink = opts.sink ?? stdoutSink;
    this.#progress = opts.progress && !opts.machineReadable;
    this.#color = opts.color;
    if (this.#progress) this.#timer = setInterval(() => this.#drawStatus(), 250);
  }

  /** Shows one event. */
  show(record: EventRecord): void {
    if (this.#progress) this.#track(record);
    const lines = this.#renderer.render(record);
    if (lines.length === 0) return;
    this.#clearStatus();
    this.#write(lines.map((l) => l + "\n").join(""));
    this.#drawStatus();
  }

  /** Prints text that is not an event (e.g. the run id banner). */
  print(text: string): void {
    this.#clearStatus();
    this.#write(text.endsWith("\n") ? text : text + "\n");
  }

  /** Stops the progress timer and removes the status line. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clearStatus();
  }

  #track(r: EventRecord): void {
    if (!r.build) return;
    const now = Date.now();
    const set = (label: string) =>
      this.#activity.set(r.build!, {
        label,
        since: now,
        build: this.#buildStart.get(r.build!) ?? now,
      });
    switch (r.type) {
      case E.BuildStarted:
        this.#buildStart.set(r.build, now);
        set("starting");
        break;
      case E.StepStarted:
        set(`step ${r.step}`);
        break;
      case E.ProvisionerStarted:
        set(`provisioner ${r.data.type} #${r.data.index}`);
        break;
      case E.PostProcessorStarted:
        set(`post-processor ${r.data.type}`);
        break;
      case E.CompensationStarted:
        if (r.data.kind === "build") set("cleaning up");
        break;
      case E.BuildFinished:
        this.#activity.delete(r.build);
        break;
    }
  }

  #drawStatus(): void {
    if (!this.#progress || this.#activity.size === 0 || promptState.active) return;
    const now = Date.now();
    const parts = [...this.#activity].map(([b, a]) =>
      `${b}: ${a.label} ${shortDuration(now - a.since)} (build ${shortDuration(now - a.build)})`
    );
    let cols = 100;
    try {
      cols = Deno.consoleSize().columns;
    } catch {
      // Not a terminal after all (progress forced by a library caller).
    }
    let text = `[${parts.join(" | ")}]`;
    if (text.length > cols - 1) text = text.slice(0, cols - 2) + "…";
    // Without colour the line is plain: only the cursor control that redraws it remains.
    this.#write(this.#color ? `\r\x1b[2K\x1b[2m${text}\x1b[0m` : `\r\x1b[2K${text}`);
    this.#statusShown = true;
  }

  /**
   * Output problems (a closed pipe: `kiln build | head`) must not fail the
   * build: the log keeps everything, so the terminal just stops showing it.
   */
  #write(text: string): void {
    if (this.#broken) return;
    try {
      this.#sink(text);
    } catch {
      this.#broken = true;
    }
  }

  #clearStatus(): void {
    if (!this.#statusShown) return;
    this.#write("\r\x1b[2K");
    this.#statusShown = false;
  }
}
