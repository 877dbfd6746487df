/**
 * Fault switches of the S3 emulator. The options object is live: a test (or
 * the admin path, for an emulator in another process) may replace it between
 * requests. Every draw is deterministic for a seed, so a failing run repeats.
 */
import { SeededRandom } from "../ec2/random.ts";
import { S3Error, s3Errors } from "./errors.ts";

/** A run of consecutive requests answered with a server error. */
export interface S3ErrorBurst {
  /** 1-based number of the first request (over all operations, from when the options were set) that fails. */
  startCall: number;
  /** How many consecutive requests fail. */
  length: number;
  /** 500 → `InternalError`, 503 → `SlowDown` (default 500). */
  status?: 500 | 503;
}

/** Which requests a one-shot fault hits. */
export interface S3CallMatch {
  /** Operation name, e.g. `PutObject` (as counted in `calls`). */
  operation: string;
  /** Only keys starting with this. */
  keyPrefix?: string;
  /**
   * The nth matching request (1-based, counted from when these options were
   * set). Without it the next matching request is hit. Either way it fires once.
   */
  nth?: number;
}

/** A request that fails with the given S3 error instead of taking effect. */
export interface S3FailCall extends S3CallMatch {
  code: string;
  status: number;
  message?: string;
}

/** A request that takes effect but whose answer never reaches the client. */
export interface S3LostResponse extends S3CallMatch {
  /** `error`: the client gets 500 `InternalError`; `drop`: the connection closes with no answer (default). */
  mode?: "error" | "drop";
}

/** The fault switches. */
export interface S3FaultOptions {
  /** Seed for the throttling draws (default 1). */
  seed?: number;
  /** Fraction (0..1) of requests answered 503 `SlowDown`. */
  throttleRate?: number;
  /** Bursts of 500 `InternalError` / 503 `SlowDown`. */
  errorBursts?: S3ErrorBurst[];
  /** Wait this long before handling each request (to make clients time out). */
  delayMs?: number;
  /** Only these operations are delayed (default: all). */
  delayOperations?: string[];
  /** A PutObject waits this long between receiving its body and committing (to make writes overlap). */
  putCommitDelayMs?: number;
  /** Requests that fail once without taking effect. */
  failCalls?: S3FailCall[];
  /** Requests that take effect once with their answer lost. */
  lostResponses?: S3LostResponse[];
}

const KNOWN = new Set([
  "seed",
  "throttleRate",
  "errorBursts",
  "delayMs",
  "delayOperations",
  "putCommitDelayMs",
  "failCalls",
  "lostResponses",
]);

/** Checks fault options that came as JSON; throws a message naming what is wrong. */
export function parseFaultOptions(value: unknown): S3FaultOptions {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("fault options must be a JSON object");
  }
  const unknown = Object.keys(value).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) {
    throw new Error(
      `unknown fault option(s): ${unknown.join(", ")} (known: ${[...KNOWN].join(", ")})`,
    );
  }
  const o = value as Record<string, unknown>;
  for (const name of ["seed", "throttleRate", "delayMs", "putCommitDelayMs"]) {
    if (o[name] !== undefined && (typeof o[name] !== "number" || !Number.isFinite(o[name]))) {
      throw new Error(`${name} must be a number`);
    }
  }
  for (const name of ["errorBursts", "delayOperations", "failCalls", "lostResponses"]) {
    if (o[name] !== undefined && !Array.isArray(o[name])) throw new Error(`${name} must be a list`);
  }
  for (
    const entry of [...(o.failCalls as unknown[] ?? []), ...(o.lostResponses as unknown[] ?? [])]
  ) {
    if (typeof (entry as { operation?: unknown })?.operation !== "string") {
      throw new Error("every failCalls / lostResponses entry needs an operation");
    }
  }
  return value as S3FaultOptions;
}

/** Decides, request by request, which fault (if any) hits; counts what it injected. */
export class S3FaultInjector {
  #options: S3FaultOptions = {};
  #random = new SeededRandom(1);
  #requests = 0;
  #matched = new Map<S3CallMatch, number>();
  #fired = new Set<S3CallMatch>();
  /** How many faults were injected, by code (`LostResponse` for lost answers). */
  readonly injected = new Map<string, number>();

  constructor(options: S3FaultOptions = {}) {
    this.configure(options);
  }

  /** The switches in force. */
  get options(): S3FaultOptions {
    return this.#options;
  }

  /** Replaces every switch; bursts and one-shot faults count requests from now. */
  configure(options: S3FaultOptions): void {
    this.#options = options;
    this.#random = new SeededRandom(options.seed ?? 1);
    this.#requests = 0;
    this.#matched.clear();
    this.#fired.clear();
  }

  /** The delay before handling this operation. */
  delayFor(operation: string): number {
    const o = this.#options;
    if (!o.delayMs) return 0;
    return !o.delayOperations || o.delayOperations.includes(operation) ? o.delayMs : 0;
  }

  /** Counts a request; the error it must be answered with instead of running, if any. */
  beforeCall(operation: string, key: string): S3Error | undefined {
    this.#requests++;
    const o = this.#options;
    const fail = this.#hit(o.failCalls ?? [], operation, key);
    if (fail) {
      this.#record(fail.code);
      return new S3Error(fail.status, fail.code, fail.message ?? `injected ${fail.code}`);
    }
    for (const burst of o.errorBursts ?? []) {
      if (this.#requests >= burst.startCall && this.#requests < burst.startCall + burst.length) {
        const error = burst.status === 503 ? s3Errors.slowDown() : s3Errors.internalError();
        this.#record(error.code);
        return error;
      }
    }
    // The draw happens on every request so the sequence does not depend on which operations ran.
    if (this.#random.next() < (o.throttleRate ?? 0)) {
      this.#record("SlowDown");
      return s3Errors.slowDown();
    }
    return undefined;
  }

  /** After a request took effect: how its answer is lost, if it is. */
  afterCall(operation: string, key: string): "error" | "drop" | undefined {
    const lost = this.#hit(this.#options.lostResponses ?? [], operation, key);
    if (!lost) return undefined;
    this.#record("LostResponse");
    return lost.mode ?? "drop";
  }

  #hit<T extends S3CallMatch>(entries: T[], operation: string, key: string): T | undefined {
    for (const entry of entries) {
      if (this.#fired.has(entry) || entry.operation !== operation) continue;
      if (entry.keyPrefix !== undefined && !key.startsWith(entry.keyPrefix)) continue;
      const seen = (this.#matched.get(entry) ?? 0) + 1;
      this.#matched.set(entry, seen);
      if (seen === (entry.nth ?? 1)) {
        this.#fired.add(entry);
        return entry;
      }
    }
    return undefined;
  }

  #record(code: string) {
    this.injected.set(code, (this.injected.get(code) ?? 0) + 1);
  }
}
