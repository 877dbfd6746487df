/**
 * Packer's `-machine-readable` output: one line per event,
 * `timestamp,target,type,data...`, with commas in data written as
 * `%!(PACKER_COMMA)` and newlines as a literal `\n`. Also a small output
 * helper that prints either human lines or those records.
 */
import { stdoutSink } from "../runtime/stdout_sink.ts";

/** Escapes one data field the way Packer does. */
export function escapeMachineField(value: string): string {
  return value.replaceAll(",", "%!(PACKER_COMMA)").replaceAll("\r", "\\r").replaceAll("\n", "\\n");
}

/** One machine-readable line (without the trailing newline). */
export function machineLine(
  target: string,
  type: string,
  data: string[],
  now: Date = new Date(),
): string {
  const ts = Math.floor(now.getTime() / 1000);
  return [String(ts), escapeMachineField(target), type, ...data.map(escapeMachineField)].join(",");
}

/** Splits a machine-readable line back into its fields (unescaping data). */
export function parseMachineLine(
  line: string,
): { timestamp: number; target: string; type: string; data: string[] } {
  const [ts, target, type, ...data] = line.split(",");
  const unescape = (s: string) =>
    s.replaceAll("%!(PACKER_COMMA)", ",").replaceAll("\\n", "\n").replaceAll("\\r", "\r");
  return { timestamp: Number(ts), target: unescape(target ?? ""), type, data: data.map(unescape) };
}

/** Where a command writes: human text, or machine-readable records. */
export interface CommandOutput {
  /** A line of normal output (`ui,say` in machine mode). */
  say(message: string): void;
  /** A line of error output (`ui,error`, or stderr). */
  error(message: string): void;
  /** A machine-only record such as `template-builder` (ignored in human mode). */
  machine(type: string, ...data: string[]): void;
  /** Everything written so far (for tests driving commands in-process). */
  readonly lines: string[];
}

/** Creates the output for a command; `write` defaults to stdout/stderr. */
export function commandOutput(
  machineReadable: boolean,
  write: (text: string, stream: "stdout" | "stderr") => void = defaultWrite,
  mask: (text: string) => string = (t) => t,
): CommandOutput {
  const lines: string[] = [];
  const emit = (text: string, stream: "stdout" | "stderr") => {
    lines.push(text);
    write(text + "\n", stream);
  };
  return {
    lines,
    say(message) {
      const m = mask(message);
      emit(machineReadable ? machineLine("", "ui", ["say", m]) : m, "stdout");
    },
    error(message) {
      const m = mask(message);
      if (machineReadable) emit(machineLine("", "ui", ["error", m]), "stdout");
      else emit(m, "stderr");
    },
    machine(type, ...data) {
      if (machineReadable) emit(machineLine("", type, data.map(mask)), "stdout");
    },
  };
}

const encoder = new TextEncoder();

function defaultWrite(text: string, stream: "stdout" | "stderr"): void {
  // stdout's reader may leave (`kiln inspect t.json | head -1`): stdoutSink copes.
  if (stream === "stdout") return stdoutSink(text);
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}
