/**
 * StepContext backed by the run log: everything a step reports (events,
 * intents, resources) is an appended record, so the fold sees it and a
 * resumed process knows it. Resource events are fsynced by the writer.
 */
import type { EventLog } from "./event_log.ts";
import { EventType } from "./events.ts";
import type { BuildRuntime, SecretStore, StepContext, Ui } from "./types.ts";
import type { Communicator } from "../communicators/communicator.ts";

/** What a step context is made of. */
export interface StepContextParts {
  log: EventLog;
  runId: string;
  buildName: string;
  builderType: string;
  config: Record<string, unknown>;
  /** Completed steps' outputs; read live, so later steps see earlier outputs. */
  state: () => Readonly<Record<string, unknown>>;
  ui: Ui;
  signal: AbortSignal;
  secrets: SecretStore;
  render(text: string, data?: Record<string, unknown>): string;
  runtime?: BuildRuntime;
  comm: () => Communicator | undefined;
}

/** A StepContext for step `stepId` (null for build-level work such as cleanup). */
export function makeStepContext(parts: StepContextParts, stepId: string | null): StepContext {
  const { log, buildName } = parts;
  const append = (type: string, data: Record<string, unknown>) => {
    log.append({ build: buildName, step: stepId, type, data });
    return Promise.resolve();
  };
  return {
    runId: parts.runId,
    buildName,
    builderType: parts.builderType,
    config: parts.config,
    get state() {
      return parts.state();
    },
    ui: parts.ui,
    signal: parts.signal,
    secrets: parts.secrets,
    runtime: parts.runtime,
    get comm() {
      return parts.comm();
    },
    render: parts.render,
    emit: (type, data = {}) => append(type, data),
    emitAll: (events) => {
      log.appendAll(
        events.map((e) => ({ build: buildName, step: stepId, type: e.type, data: e.data ?? {} })),
      );
      return Promise.resolve();
    },
    intent: (intent) =>
      append(EventType.ResourceIntent, {
        kind: intent.kind,
        token: intent.token,
        ...(intent.data ? { data: intent.data } : {}),
      }),
    created: (r) =>
      append(EventType.ResourceCreated, {
        kind: r.kind,
        id: r.id,
        ...(r.region ? { region: r.region } : {}),
        ...(r.data ? { data: r.data } : {}),
        ...(r.temporary ? { temporary: true } : {}),
      }),
    deleted: (r) => append(EventType.ResourceDeleted, { kind: r.kind, id: r.id }),
  };
}
