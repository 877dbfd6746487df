/**
 * Packer's debug log: `PACKER_LOG=1` writes one timestamped line per thing
 * kiln does (command, run, every event — steps, resources, output — and,
 * through the AWS SDK's logger, every API call) to stderr, or to the file
 * `PACKER_LOG_PATH` names (created afresh, 0600), as Packer 1.6.6 does:
 * PACKER_LOG_PATH alone logs nothing, and "0" or "" leaves logging off.
 *
 * Every line passes the run's masker before it is written, so a secret
 * that would be `<sensitive>` on the terminal is `<sensitive>` here too.
 * Process-wide, like Packer's: the CLI configures it once at start.
 */
import type { EventRecord } from "./events.ts";
import type { OutputGuard } from "./masker.ts";

/** Severity tags as Packer's log lines carry them. */
export type DebugLevel = "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR";

const encoder = new TextEncoder();
let sink: ((line: string) => void) | undefined;
let closeSink: (() => void) | undefined;
let guard: Pick<OutputGuard, "maskText"> | undefined;

/** Whether the debug log is on (PACKER_LOG set, and not "0"). */
export function debugLogEnabled(): boolean {
  return sink !== undefined;
}

/**
 * Reads PACKER_LOG / PACKER_LOG_PATH from `env` and opens the log;
 * returns an error message when the log file cannot be created.
 */
export function configureDebugLog(env: (name: string) => string | undefined): string | undefined {
  closeDebugLog();
  const on = env("PACKER_LOG");
  if (on === undefined || on === "" || on === "0") return undefined;
  const path = env("PACKER_LOG_PATH");
  if (path) {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { write: true, create: true, truncate: true, mode: 0o600 });
    } catch (err) {
      return `PACKER_LOG_PATH ${path}: ${err instanceof Error ? err.message : String(err)}`;
    }
    sink = (line) => writeAll((b) => file.writeSync(b), line);
    closeSink = () => file.close();
  } else {
    sink = (line) => {
      try {
        writeAll((b) => Deno.stderr.writeSync(b), line);
      } catch {
        // stderr gone (a closed pipe): the log is best effort, the run goes on.
      }
    };
  }
  return undefined;
}

/** Closes the log file (tests; the process's end closes it otherwise). */
export function closeDebugLog(): void {
  closeSink?.();
  sink = closeSink = undefined;
  guard = undefined;
}

/** Masks every later line with the run's secrets (set when a run starts). */
export function maskDebugLogWith(masker: Pick<OutputGuard, "maskText"> | undefined): void {
  guard = masker;
}

/** Writes `message` from `component` ("runtime", "aws ec2", ...) when the log is on. */
export function debugLog(component: string, level: DebugLevel, message: string): void {
  if (!sink) return;
  const text = guard ? guard.maskText(message) : message;
  const stamp = timestamp(new Date());
  for (const line of text.split("\n")) sink(`${stamp} [${level}] ${component}: ${line}\n`);
}

/** One line per run event (records as the log writer passes them on: output already masked). */
export function debugLogEvent(r: EventRecord): void {
  if (!sink) return;
  const where = [r.build && `build=${r.build}`, r.step && `step=${r.step}`].filter(Boolean);
  if (r.type === "Ui") {
    const d = r.data as { message?: unknown; prefix?: unknown; level?: unknown };
    const lead = d.prefix === undefined
      ? ""
      : d.level === "message"
      ? `    ${d.prefix}: `
      : `==> ${d.prefix}: `;
    debugLog("ui", d.level === "error" ? "ERROR" : "INFO", lead + String(d.message ?? ""));
    return;
  }
  if (r.type === "RunStarted" || r.type === "RunResumed") where.unshift(`run=${r.run}`);
  const data = JSON.stringify(r.data);
  debugLog(
    "runtime",
    r.type.endsWith("Failed") ? "ERROR" : "INFO",
    `#${r.seq} ${r.type}${where.length ? " " + where.join(" ") : ""}${
      data === "{}" ? "" : " " + data
    }`,
  );
}

/** The AWS SDK's logger interface, writing into the debug log (API calls, retries). */
export function sdkDebugLogger(component: string): {
  debug(...a: unknown[]): void;
  info(...a: unknown[]): void;
  warn(...a: unknown[]): void;
  error(...a: unknown[]): void;
} {
  const at = (level: DebugLevel) => (...a: unknown[]) =>
    debugLog(component, level, a.map((x) => typeof x === "string" ? x : safeJson(x)).join(" "));
  return { debug: at("DEBUG"), info: at("INFO"), warn: at("WARN"), error: at("ERROR") };
}

function safeJson(x: unknown): string {
  try {
    return JSON.stringify(x, (_k, v) => typeof v === "bigint" ? String(v) : v);
  } catch {
    return String(x);
  }
}

/** Packer's `2006/01/02 15:04:05` (UTC), with milliseconds for ordering fast events. */
function timestamp(d: Date): string {
  const iso = d.toISOString(); // 2026-12-07T14:28:56.123Z
  return `${iso.slice(0, 10).replaceAll("-", "/")} ${iso.slice(11, 23)}`;
}

function writeAll(write: (b: Uint8Array) => number, text: string): void {
  const bytes = encoder.encode(text);
  let at = 0;
  while (at < bytes.length) at += write(bytes.subarray(at));
}
