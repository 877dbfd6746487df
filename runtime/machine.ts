/**
 * A builder's ordered steps as an XState v5 machine. The machine is data
 * (states and transitions); every effect lives in a `fromPromise` actor
 * supplied by the driver, so the same definition serves fresh runs and
 * resumes. It starts wherever the fold of the log says the build stands.
 */
import { assign, createActor, fromPromise, setup, toPromise } from "xstate";

/** What the machine asks the driver to do. */
export interface MachineEffects {
  /** Runs (or reconciles and continues) step `index`; throws when the step fails. */
  runStep(index: number, signal: AbortSignal): Promise<void>;
  /** After step `index` failed: what to do about it (`-on-error`). */
  decide(index: number, error: unknown): Promise<"cleanup" | "abort" | "retry">;
  /** Compensation in reverse order; `reason` is "failed" or "cancelled". */
  compensate(reason: "failed" | "cancelled", error: unknown): Promise<void>;
  /** After the last step: deletes temporary resources. */
  finish(): Promise<void>;
}

/** Where the machine starts. */
export type MachineStart = { step: number } | { compensate: "failed" | "cancelled" } | {
  finish: true;
};

/** How a build's machine ended. */
export type MachineOutcome = "succeeded" | "failed" | "aborted" | "cancelled";

interface Ctx {
  start: MachineStart;
  outcome?: MachineOutcome;
  cancelled: boolean;
  error: unknown;
  abort: AbortController;
}

type Ev = { type: "CANCEL" };

/** A running build machine. */
export interface BuildMachine {
  /** Resolves with the final state. */
  done: Promise<MachineOutcome>;
  /** SIGINT/SIGTERM: abort the running step, then compensate. */
  cancel(): void;
}

/** Builds the machine definition for `stepCount` steps. */
export function buildMachineDefinition(stepIds: string[]) {
  const n = stepIds.length;
  const stepState = (i: number) => `step_${i}_${stepIds[i].replace(/[^A-Za-z0-9_]/g, "_")}`;
  const after = (i: number) => (i + 1 < n ? stepState(i + 1) : "finishing");
  const base = setup({
    types: {
      context: {} as Ctx,
      events: {} as Ev,
      input: {} as { start: MachineStart },
      output: {} as MachineOutcome,
    },
    actors: {
      runStep: fromPromise<void, { index: number; signal: AbortSignal }>(() => Promise.resolve()),
      decide: fromPromise<"cleanup" | "abort" | "retry", { index: number; error: unknown }>(
        () => Promise.resolve("cleanup" as const),
      ),
      compensate: fromPromise<void, { reason: "failed" | "cancelled"; error: unknown }>(() =>
        Promise.resolve()
      ),
      finish: fromPromise<void, void>(() => Promise.resolve()),
    },
    guards: {
      cancelled: ({ context }) => context.cancelled,
    },
    actions: {
      markCancelled: assign({ cancelled: true }),
      abortStep: ({ context }) => context.abort.abort(new Error("build cancelled")),
    },
  });

  // deno-lint-ignore no-explicit-any
  const states: Record<string, any> = {};
  const startGuards = [];
  for (let i = 0; i < n; i++) {
    startGuards.push({
      guard: ({ context }: { context: Ctx }) => "step" in context.start && context.start.step === i,
      target: stepState(i),
    });
    states[stepState(i)] = {
      invoke: {
        src: "runStep",
        input: ({ context }: { context: Ctx }) => ({ index: i, signal: context.abort.signal }),
        onDone: [{ guard: "cancelled", target: "compensating" }, { target: after(i) }],
        onError: [
          {
            guard: "cancelled",
            target: "compensating",
            actions: assign({ error: ({ event }) => event.error }),
          },
          {
            target: `${stepState(i)}_failed`,
            actions: assign({ error: ({ event }) => event.error }),
          },
        ],
      },
      on: { CANCEL: { actions: ["markCancelled", "abortStep"] } },
    };
    states[`${stepState(i)}_failed`] = {
      invoke: {
        src: "decide",
        input: ({ context }: { context: Ctx }) => ({ index: i, error: context.error }),
        onDone: [
          {
            guard: ({ event }: { event: { output: string } }) => event.output === "retry",
            target: stepState(i),
          },
          {
            guard: ({ event }: { event: { output: string } }) => event.output === "abort",
            target: "aborted",
          },
          { target: "compensating" },
        ],
        onError: { target: "compensating" },
      },
      on: { CANCEL: { target: "compensating", actions: "markCancelled" } },
    };
  }
  states.init = {
    always: [
      {
        guard: ({ context }: { context: Ctx }) => "compensate" in context.start,
        target: "compensating",
        actions: assign({
          cancelled: ({ context }: { context: Ctx }) =>
            "compensate" in context.start && context.start.compensate === "cancelled",
        }),
      },
      ...startGuards,
      { target: "finishing" },
    ],
  };
  states.finishing = {
    invoke: { src: "finish", onDone: "succeeded", onError: "succeeded" },
  };
  states.compensating = {
    invoke: {
      src: "compensate",
      input: ({ context }: { context: Ctx }) => ({
        reason: context.cancelled ? "cancelled" : "failed",
        error: context.error,
      }),
      onDone: [{ guard: "cancelled", target: "cancelled" }, { target: "failed" }],
      onError: [{ guard: "cancelled", target: "cancelled" }, { target: "failed" }],
    },
  };
  for (const outcome of ["succeeded", "failed", "aborted", "cancelled"] as const) {
    states[outcome] = { type: "final", entry: assign({ outcome }) };
  }

  return base.createMachine({
    id: "build",
    initial: "init",
    context: ({ input }) => ({
      start: input.start,
      cancelled: false,
      error: undefined,
      abort: new AbortController(),
    }),
    states,
    output: ({ context }) => context.outcome ?? "failed",
  });
}

/** Starts a build machine over `stepIds` with the driver's effects. */
export function startBuildMachine(
  stepIds: string[],
  start: MachineStart,
  effects: MachineEffects,
): BuildMachine {
  const machine = buildMachineDefinition(stepIds).provide({
    actors: {
      runStep: fromPromise(({ input }) => effects.runStep(input.index, input.signal)),
      decide: fromPromise(({ input }) => effects.decide(input.index, input.error)),
      compensate: fromPromise(({ input }) => effects.compensate(input.reason, input.error)),
      finish: fromPromise(() => effects.finish()),
    },
  });
  const actor = createActor(machine, { input: { start } });
  const done = toPromise(actor).then((out) => out as MachineOutcome);
  actor.start();
  return { done, cancel: () => actor.send({ type: "CANCEL" }) };
}
