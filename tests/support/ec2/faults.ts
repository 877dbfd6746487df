/**
 * Fault injection for the emulator. Every switch is deterministic for a given
 * seed, and the object is live: tests may change it between calls.
 */
import { Ec2Error } from "./errors.ts";
import { SeededRandom } from "./random.ts";

/** A run of consecutive calls answered with a server error. */
export interface ServerErrorBurst {
  /** 1-based number of the first EC2 call (counted over all actions) that fails. */
  startCall: number;
  /** How many consecutive calls fail. */
  length: number;
  /** 500 → `InternalError`, 503 → `Unavailable` (default 503). */
  status?: 500 | 503;
}

/** A single named call that fails, e.g. the first RunInstances. */
export interface FailCall {
  action: string;
  /** Which call of that action fails (1-based; default 1). */
  nth?: number;
  code: string;
  message?: string;
  status?: number;
}

/** The fault switches of one emulator. */
export interface FaultOptions {
  /** Seed for the fault PRNG (default 1). */
  seed?: number;
  /** Fraction (0..1) of EC2 calls answered with `RequestLimitExceeded` (HTTP 503). */
  throttleRate?: number;
  /** Actions never throttled (default: none). */
  throttleExempt?: string[];
  /** Bursts of 5xx answers. */
  serverErrorBursts?: ServerErrorBurst[];
  /** Calls that fail once with the given error. */
  failCalls?: FailCall[];
  /**
   * Eventual consistency: a newly created instance, key pair, security group,
   * image or spot request stays invisible to this many Describe calls that
   * would otherwise show it (by id → `*.NotFound`).
   */
  invisibleForDescribes?: number;
  /**
   * Calls that take effect but whose answer is lost: the action runs, then the
   * client gets a 500 `InternalError` (the case ClientToken exists for).
   */
  lostResponses?: { action: string; nth?: number }[];
  /** Launch ordinals (1-based, over all RunInstances/spot launches) that stay `pending` forever. */
  neverRunning?: number[];
  /** Behave like EC2-compatible endpoints that ignore `ClientToken`. */
  ignoreClientToken?: boolean;
}

/** Decides, call by call, which fault (if any) hits. */
export class FaultInjector {
  /** The live switches; mutate to change behaviour mid-test. */
  readonly options: FaultOptions;
  #random: SeededRandom;
  #calls = 0;
  #perAction = new Map<string, number>();
  /** How many faults were injected, by code. */
  readonly injected = new Map<string, number>();

  constructor(options: FaultOptions = {}) {
    this.options = options;
    this.#random = new SeededRandom(options.seed ?? 1);
  }

  /** Counts a call and throws the fault it draws, if any. */
  beforeCall(action: string): void {
    this.#calls++;
    const nth = (this.#perAction.get(action) ?? 0) + 1;
    this.#perAction.set(action, nth);
    const o = this.options;
    for (const fail of o.failCalls ?? []) {
      if (fail.action === action && (fail.nth ?? 1) === nth) {
        this.#record(fail.code);
        throw new Ec2Error(fail.code, fail.message ?? `injected failure of ${action}`, fail.status);
      }
    }
    for (const burst of o.serverErrorBursts ?? []) {
      if (this.#calls >= burst.startCall && this.#calls < burst.startCall + burst.length) {
        const status = burst.status ?? 503;
        const code = status === 500 ? "InternalError" : "Unavailable";
        this.#record(code);
        throw new Ec2Error(
          code,
          status === 500
            ? "An internal error has occurred"
            : "The server is overloaded and can't handle the request",
          status,
        );
      }
    }
    // The draw happens on every call so one action's exemption does not shift the sequence.
    const draw = this.#random.next();
    if (draw < (o.throttleRate ?? 0) && !(o.throttleExempt ?? []).includes(action)) {
      this.#record("RequestLimitExceeded");
      throw new Ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503);
    }
  }

  /** After a successful call: throws when its response is to be lost. */
  afterCall(action: string): void {
    const nth = this.#perAction.get(action) ?? 0;
    const lost = (this.options.lostResponses ?? []).some((l) =>
      l.action === action && (l.nth ?? 1) === nth
    );
    if (lost) {
      this.#record("LostResponse");
      throw new Ec2Error("InternalError", "An internal error has occurred", 500);
    }
  }

  #record(code: string) {
    this.injected.set(code, (this.injected.get(code) ?? 0) + 1);
  }
}
