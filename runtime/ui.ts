/**
 * Build output goes through the event log: every line a build prints is a
 * `Ui` event, and the terminal shows what the log records. That is what
 * makes `kiln replay` reproduce a run's output exactly, and masking total.
 */
import type { EventLog } from "./event_log.ts";
import { EventType } from "./events.ts";
import type { Ui } from "./types.ts";

/** How a Ui line is shown. */
export type UiLevel = "say" | "message" | "error" | "raw";

/** Data of a `Ui` event. */
export interface UiEventData {
  level: UiLevel;
  message: string;
  /** Prefix shown after "==> " (build name, or "build (post-processor)"); none for raw. */
  prefix?: string;
  /** A summary line about this build's artifacts (machine-readable output lists them there). */
  artifactsOf?: string;
  /** Which of that build's artifacts the line is about (Packer lists each one's records before its line). */
  artifactIndex?: number;
}

/** A Ui whose lines are appended to the log for `build` (and shown by the terminal renderer). */
export function logUi(log: EventLog, build: string | null, prefix?: string): Ui & {
  raw(message: string, artifactsOf?: string, artifactIndex?: number): void;
} {
  const put = (level: UiLevel, message: string, artifactsOf?: string, artifactIndex?: number) => {
    const data: UiEventData = { level, message };
    if (prefix !== undefined && level !== "raw") data.prefix = prefix;
    if (artifactsOf !== undefined) data.artifactsOf = artifactsOf;
    if (artifactIndex !== undefined) data.artifactIndex = artifactIndex;
    log.append({ build, type: EventType.Ui, data: data as unknown as Record<string, unknown> });
  };
  return {
    guard: log.masker,
    say: (m) => put("say", m),
    message: (m) => put("message", m),
    error: (m) => put("error", m),
    raw: (m, artifactsOf, artifactIndex) => put("raw", m, artifactsOf, artifactIndex),
  };
}
