/**
 * The store's own thread. The runtime appends synchronously (one write
 * order, no queue), yet a durable append must not return before the store
 * has it; so the main thread hands store work to this worker and, for
 * durable work, blocks on a shared flag until the answer is posted. The
 * worker also renews leases on its own timers, which keep running while the
 * main thread waits. Work is done strictly in the order it was sent.
 */
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { storeOps } from "./ops.ts";
import type { StoreConfig } from "./config.ts";

interface Init {
  config: StoreConfig;
  flag: SharedArrayBuffer;
  /** Every request arrives here, in the order the main thread sent it. */
  requests: MessagePort;
  /** Answers to requests the main thread blocks on (read with receiveMessageOnPort). */
  syncReplies: MessagePort;
  asyncReplies: MessagePort;
}

interface Request {
  id: number;
  op: string;
  args: Record<string, unknown>;
  sync: boolean;
}

const { config, flag, requests, syncReplies, asyncReplies } = workerData as Init;
const signal = new Int32Array(flag);
const ops = storeOps(config);
let chain: Promise<unknown> = Promise.resolve();

function answer(
  req: Request,
  reply: { ok: boolean; value?: unknown; error?: string; name?: string },
) {
  if (req.sync) {
    syncReplies.postMessage({ id: req.id, ...reply });
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  } else {
    asyncReplies.postMessage({ id: req.id, ...reply });
  }
}

function onRequest(req: Request): void {
  chain = chain.then(async () => {
    try {
      const value = await ops.run(req.op, req.args);
      answer(req, { ok: true, value });
    } catch (err) {
      answer(req, {
        ok: false,
        error: err instanceof Error ? err.message : String(err),
        name: err instanceof Error ? err.name : "Error",
      });
    }
  });
}

requests.on("message", onRequest);
// Loaded (the SDK too): a main thread waiting on a worker that never started gives up early.
Atomics.store(signal, 1, 1);
parentPort?.postMessage("ready");
