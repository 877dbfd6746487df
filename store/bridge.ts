/**
 * The main thread's side of the store worker (worker.ts): `call` for work
 * the caller awaits, `callSync` for work the caller must not run past (a
 * durable append), which blocks this thread until the worker answers. The
 * worker is unref'd: it never keeps a finished kiln alive.
 */
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import { RunRefusedError } from "../runtime/errors.ts";
import type { StoreConfig } from "./config.ts";

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
  name?: string;
}

/** A failure the worker reported, with its kind kept. */
export class StoreError extends Error {
  constructor(message: string, name: string) {
    super(message);
    this.name = name;
  }
}

function failure(reply: Reply): Error {
  const message = reply.error ?? "the store failed";
  // Refusals (no such run, a live lease elsewhere) are the user's answer, not a crash.
  if (["RunRefusedError", "StoreIntegrityError"].includes(reply.name ?? "")) {
    return new RunRefusedError(message);
  }
  return new StoreError(message, reply.name ?? "StoreError");
}

/** A running store worker. */
export class StoreBridge {
  #worker: Worker;
  /** [0]: an answer was posted; [1]: the worker has started. */
  #flag = new Int32Array(new SharedArrayBuffer(8));
  #requests: MessagePort;
  #syncReplies: MessagePort;
  #asyncReplies: MessagePort;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #waitMs: number;

  constructor(config: StoreConfig) {
    const requests = new MessageChannel();
    const syncReplies = new MessageChannel();
    const asyncReplies = new MessageChannel();
    this.#requests = requests.port1;
    this.#syncReplies = syncReplies.port1;
    this.#asyncReplies = asyncReplies.port1;
    this.#waitMs = config.waitMs + config.leaseMs + 60_000;
    this.#worker = new Worker(new URL("./worker.ts", import.meta.url), {
      workerData: {
        config,
        flag: this.#flag.buffer,
        requests: requests.port2,
        syncReplies: syncReplies.port2,
        asyncReplies: asyncReplies.port2,
      },
      transferList: [requests.port2, syncReplies.port2, asyncReplies.port2],
    });
    this.#worker.unref();
    this.#asyncReplies.on("message", (reply: Reply) => {
      const waiter = this.#pending.get(reply.id);
      if (!waiter) return;
      this.#pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(failure(reply));
      if (this.#pending.size === 0) this.#asyncReplies.unref();
    });
    this.#asyncReplies.unref();
  }

  /** Sends work and resolves with its answer. */
  call(op: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#next++;
    this.#asyncReplies.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#requests.postMessage({ id, op, args, sync: false });
    });
  }

  /** Sends work without waiting for it (its failure surfaces at the run's next sync call). */
  post(op: string, args: Record<string, unknown> = {}): void {
    this.#requests.postMessage({ id: 0, op, args, sync: false });
  }

  /** Sends work and blocks this thread until it is done. */
  callSync(op: string, args: Record<string, unknown> = {}): unknown {
    const id = this.#next++;
    Atomics.store(this.#flag, 0, 0);
    this.#requests.postMessage({ id, op, args, sync: true });
    const started = Date.now();
    const deadline = started + this.#waitMs;
    for (;;) {
      const got = receiveMessageOnPort(this.#syncReplies);
      if (got) {
        const reply = got.message as Reply;
        if (reply.id !== id) continue;
        if (reply.ok) return reply.value;
        throw failure(reply);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StoreError("the store worker did not answer", "StoreUnavailableError");
      }
      if (Atomics.load(this.#flag, 1) === 0 && Date.now() - started > 60_000) {
        throw new StoreError("the store worker did not start within 60 s", "StoreError");
      }
      Atomics.wait(this.#flag, 0, 0, Math.min(left, 1000));
      Atomics.store(this.#flag, 0, 0);
    }
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
