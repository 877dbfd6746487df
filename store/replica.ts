/**
 * A run's replica in the store, as the event log drives it (runtime/replica.ts):
 * durable appends go through at once and block; output records wait in a
 * buffer and go with the next durable append, or after a short delay, so a
 * chatty provisioner costs a few segments rather than one per line.
 */
import type { RunReplica } from "../runtime/replica.ts";
import type { StoreBridge } from "./bridge.ts";

/** Output records wait at most this long before they are sent. */
const FLUSH_MS = 250;
/** ...or until this many bytes have gathered. */
const FLUSH_BYTES = 1 << 20;

/** The replica of one run this process drives. */
export class StoreReplica implements RunReplica {
  readonly runId: string;
  #bridge: StoreBridge;
  #pending: string[] = [];
  #pendingBytes = 0;
  #first = 0;
  #last = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #closed = false;

  constructor(bridge: StoreBridge, runId: string) {
    this.#bridge = bridge;
    this.runId = runId;
  }

  append(text: string, first: number, last: number, durable: boolean): void {
    if (this.#pending.length === 0) this.#first = first;
    this.#pending.push(text);
    this.#pendingBytes += text.length;
    this.#last = last;
    if (durable) {
      this.#flush(true);
    } else if (this.#pendingBytes >= FLUSH_BYTES) {
      this.#flush(false);
    } else if (this.#timer === undefined) {
      const timer = setTimeout(() => {
        this.#timer = undefined;
        this.#flush(false);
      }, FLUSH_MS);
      Deno.unrefTimer(timer as unknown as number);
      this.#timer = timer;
    }
  }

  #flush(sync: boolean): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const args = {
      runId: this.runId,
      first: this.#first,
      last: this.#last,
      text: this.#pending.join(""),
    };
    this.#pending = [];
    this.#pendingBytes = 0;
    if (sync) this.#bridge.callSync("segment", args);
    else this.#bridge.post("segment", args);
  }

  flush(): void {
    this.#flush(true);
  }

  seal(record: string): void {
    // A seal may cover output still waiting here (the log's close seals, then closes): those
    // records go first, or a store holding the seal but not them would read as cut.
    this.#flush(false);
    this.#bridge.post("seal", { runId: this.runId, record });
  }

  snapshot(seq: number, text: string): void {
    this.#bridge.post("snapshot", { runId: this.runId, seq, text });
  }

  putSecret(name: string, bytes: Uint8Array): void {
    this.#bridge.callSync("putSecret", { runId: this.runId, name, bytes: bytes.slice().buffer });
  }

  removeSecrets(keep: readonly string[]): void {
    this.#bridge.callSync("removeSecrets", { runId: this.runId, keep: [...keep] });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#flush(true);
    } finally {
      this.#bridge.callSync("close", { runId: this.runId });
    }
  }
}
