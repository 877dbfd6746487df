/**
 * What the cmd.exe and PowerShell emulations share: the emulated machine's
 * restart state (a restart in progress, a delayed restart scheduled), the
 * case-insensitive Windows environment, the error for anything outside the
 * emulated subset, and Windows' command-line argument splitting.
 */
import type { EmulatedIo } from "./emulation.ts";

/** A construct the emulator does not implement: reported on stderr, never silently accepted. */
export class UnsupportedError extends Error {
  constructor(what: string) {
    super(what);
    this.name = "UnsupportedError";
  }
}

/** Ends the whole command with `code` (cmd `exit N`, PowerShell top-level `exit N`). */
export class ExitSignal {
  constructor(readonly code: number) {}
}

/** One emulated machine: restarts and scheduled shutdowns outlive a single command. */
export class Machine {
  #restartingUntil = 0;
  #scheduled: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly downMs: number) {}

  /** Restarts now; the server goes away for `downMs`. */
  restart(io: EmulatedIo): void {
    this.abortScheduled();
    this.#restartingUntil = Date.now() + this.downMs;
    io.restart(this.downMs);
  }

  /** True while a restart asked for earlier has not finished. */
  get restarting(): boolean {
    return Date.now() < this.#restartingUntil;
  }

  /** True when a delayed restart (`shutdown /t N`) is pending. */
  get scheduled(): boolean {
    return this.#scheduled !== undefined;
  }

  /** Restarts after `seconds`, unless aborted first. */
  schedule(io: EmulatedIo, seconds: number): void {
    const timer = setTimeout(() => {
      this.#scheduled = undefined;
      this.restart(io);
    }, seconds * 1000);
    // A forgotten test restart must not keep the test process alive.
    Deno.unrefTimer(timer);
    this.#scheduled = timer;
  }

  /** Cancels a pending delayed restart; false when there was none. */
  abortScheduled(): boolean {
    if (this.#scheduled === undefined) return false;
    clearTimeout(this.#scheduled);
    this.#scheduled = undefined;
    return true;
  }
}

/** The key of `name` in `env`, matched without regard to case as Windows does. */
export function envKey(env: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(env).find((k) => k.toLowerCase() === lower);
}

/** Reads a variable, case-insensitively. */
export function getEnv(env: Record<string, string>, name: string): string | undefined {
  const key = envKey(env, name);
  return key === undefined ? undefined : env[key];
}

/** Sets a variable, keeping the spelling of an existing name. */
export function setEnv(env: Record<string, string>, name: string, value: string): void {
  env[envKey(env, name) ?? name] = value;
}

/**
 * Splits a command line into arguments as the Microsoft C runtime does:
 * whitespace separates, double quotes group (and are removed), `\"` is a
 * literal quote and backslashes are literal elsewhere.
 */
export function splitWindowsArgs(line: string): string[] {
  const args: string[] = [];
  let current = "";
  let inQuotes = false;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "\\") {
      let n = 0;
      while (line[i + n] === "\\") n++;
      if (line[i + n] === '"') {
        current += "\\".repeat(Math.floor(n / 2));
        if (n % 2 === 1) current += '"';
        else inQuotes = !inQuotes;
        i += n;
      } else {
        current += "\\".repeat(n);
        i += n - 1;
      }
      started = true;
    } else if (ch === '"') {
      inQuotes = !inQuotes;
      started = true;
    } else if (!inQuotes && (ch === " " || ch === "\t")) {
      if (started) args.push(current);
      current = "";
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) args.push(current);
  return args;
}

/** Windows output ends lines with CRLF. */
export function writeLine(write: (text: string) => void, text: string): void {
  write(`${text}\r\n`);
}
