/**
 * What the store worker does (worker.ts runs these in order): create a run,
 * claim or refresh one, append segments, keep seal, snapshots and secrets,
 * and give a run up.
 */
import { isRunId } from "../runtime/run_id.ts";
import { runDir } from "../runtime/paths.ts";
import type { StoreConfig } from "./config.ts";
import { SecretBox } from "./envelope.ts";
import { keyWrapper } from "./key_wrap.ts";
import { appendIndex, type CopyState, hydrate, readMeta, type RunMeta } from "./hydrate.ts";
import { RunKeys } from "./layout.ts";
import { Lease, leaseBytesLive, LeaseLostError } from "./lease.ts";
import { requestCounts, StoreClient } from "./s3.ts";
import { RunRefusedError } from "../runtime/errors.ts";

/** Snapshots kept per run in the store. */
const KEEP_SNAPSHOTS = 2;

interface Writer {
  runId: string;
  keys: RunKeys;
  dir: string;
  lease: Lease;
  box: SecretBox;
  /** Seq the next segment must start with. */
  next: number;
  /** Bytes of the log in the store. */
  end: number;
  sealEtag?: string;
  pendingSeal?: string;
  sealing?: Promise<void>;
  snapshots: number[];
  background: Set<Promise<unknown>>;
  /** Why this runner may not record anything more for the run. */
  fatal?: Error;
}

const enc = new TextEncoder();

/** The operations, over one store. */
export function storeOps(config: StoreConfig) {
  const client = new StoreClient(config);
  const wrapper = keyWrapper(config);
  const writers = new Map<string, Writer>();

  function writerOf(runId: string): Writer {
    const w = writers.get(runId);
    if (!w) throw new Error(`run ${runId} is not held by this process in the store`);
    if (w.fatal) throw w.fatal;
    return w;
  }

  function startWriter(
    runId: string,
    dir: string,
    lease: Lease,
    runKey: Uint8Array,
    copy: Pick<CopyState, "last" | "end" | "sealEtag">,
  ): void {
    writers.set(runId, {
      runId,
      keys: new RunKeys(config.prefix, runId),
      dir,
      lease,
      box: new SecretBox(runId, runKey),
      next: copy.last + 1,
      end: copy.end,
      sealEtag: copy.sealEtag,
      snapshots: [],
      background: new Set(),
    });
  }

  function background(w: Writer, work: Promise<unknown>): void {
    const p = work.catch((err) => {
      w.fatal ??= err instanceof Error ? err : new Error(String(err));
    }).finally(() => w.background.delete(p));
    w.background.add(p);
  }

  async function putSeal(w: Writer): Promise<void> {
    while (w.pendingSeal !== undefined) {
      const record = enc.encode(w.pendingSeal);
      w.pendingSeal = undefined;
      const etag = w.sealEtag === undefined
        ? await client.create(w.keys.seal, record)
        : await client.replace(w.keys.seal, record, w.sealEtag);
      if (etag === undefined) {
        throw new LeaseLostError(
          `this runner lost run ${w.runId}: another writer replaced its seal in the store`,
        );
      }
      w.sealEtag = etag;
    }
  }

  const handlers: Record<string, (a: Record<string, unknown>) => Promise<unknown>> = {
    async create(a) {
      const runId = String(a.runId);
      const keys = new RunKeys(config.prefix, runId);
      const runKey = new Uint8Array(a.key as ArrayBuffer);
      const meta: RunMeta = {
        format: 1,
        run: runId,
        sealId: String(a.sealId),
        key: await wrapper.wrap(runId, runKey),
        createdAt: new Date().toISOString(),
      };
      if (await client.create(keys.run, enc.encode(JSON.stringify(meta))) === undefined) {
        throw new RunRefusedError(`a run ${runId} already exists in the store ${config.url}`);
      }
      const lease = await Lease.fresh(client, keys.lease, runId);
      startWriter(runId, String(a.dir), lease, runKey, { last: 0, end: 0 });
    },

    async claim(a) {
      const runId = String(a.runId);
      const keys = new RunKeys(config.prefix, runId);
      // The run must exist before anyone leases it (a lease alone would create a phantom run).
      await readMeta(client, keys, runId);
      const lease = await Lease.claim(client, keys.lease, runId);
      try {
        const home = String(a.home);
        const copy = await hydrate(client, wrapper, config.prefix, runId, home, String(a.seals), {
          secrets: (k) => new SecretBox(runId, k),
          adoptTail: true,
          full: Boolean(a.full),
        });
        startWriter(runId, runDir(runId, home), lease, copy.runKey, copy);
      } catch (err) {
        await lease.release();
        throw err;
      }
    },

    async refresh(a) {
      const runId = String(a.runId);
      await hydrate(client, wrapper, config.prefix, runId, String(a.home), String(a.seals), {
        secrets: a.secrets ? (k) => new SecretBox(runId, k) : undefined,
        full: Boolean(a.full),
      });
    },

    async segment(a) {
      const w = writerOf(String(a.runId));
      const first = Number(a.first);
      const last = Number(a.last);
      const bytes = enc.encode(String(a.text));
      if (first !== w.next) {
        throw (w.fatal = new Error(
          `run ${w.runId}: the store expected event ${w.next} next, not ${first}`,
        ));
      }
      // Lost the run: stop before the next side effect (this append is its intent).
      try {
        await w.lease.ensure();
      } catch (err) {
        throw (w.fatal = err as Error);
      }
      const etag = await client.create(w.keys.segment(first), bytes).catch((err) => {
        throw (w.fatal = err);
      });
      if (etag === undefined) {
        throw (w.fatal = new LeaseLostError(
          `this runner lost run ${w.runId}: another runner already recorded event ${first} ` +
            `in the store; stopping before anything more is done`,
        ));
      }
      w.next = last + 1;
      w.end += bytes.length;
      appendIndex(w.dir, [{ f: first, l: last, e: w.end }]);
    },

    seal(a) {
      const w = writerOf(String(a.runId));
      w.pendingSeal = String(a.record);
      w.sealing ??= (() => {
        const p = putSeal(w).finally(() => w.sealing = undefined);
        background(w, p);
        return p;
      })();
      return Promise.resolve();
    },

    snapshot(a) {
      const w = writerOf(String(a.runId));
      const seq = Number(a.seq);
      background(
        w,
        (async () => {
          await client.put(w.keys.snapshot(seq), enc.encode(String(a.text)));
          w.snapshots.push(seq);
          while (w.snapshots.length > KEEP_SNAPSHOTS) {
            await client.delete(w.keys.snapshot(w.snapshots.shift()!));
          }
        })().catch(() => {
          // A snapshot is a cache: a reader without it folds more of the log.
        }),
      );
      return Promise.resolve();
    },

    async putSecret(a) {
      const w = writerOf(String(a.runId));
      const name = String(a.name);
      const bytes = new Uint8Array(a.bytes as ArrayBuffer);
      await client.put(w.keys.secret(name), w.box.seal(name, bytes));
    },

    async removeSecrets(a) {
      const w = writerOf(String(a.runId));
      const keep = a.keep as string[];
      for (const key of await client.list(w.keys.secretPrefix)) {
        if (!keep.includes(key.slice(w.keys.secretPrefix.length))) await client.delete(key);
      }
    },

    async close(a) {
      const runId = String(a.runId);
      const w = writers.get(runId);
      if (!w) return;
      try {
        while (w.background.size > 0) await Promise.all([...w.background]);
        if (w.fatal) throw w.fatal;
      } finally {
        writers.delete(runId);
        if (w.fatal) w.lease.stop();
        else await w.lease.release();
      }
    },

    async list() {
      return (await client.children(config.prefix)).filter(isRunId);
    },

    async leased(a) {
      const obj = await client.get(new RunKeys(config.prefix, String(a.runId)).lease);
      return leaseBytesLive(obj?.body);
    },

    counts() {
      return Promise.resolve(Object.fromEntries(requestCounts));
    },
  };

  return {
    run(op: string, args: Record<string, unknown>): Promise<unknown> {
      const handler = handlers[op];
      if (!handler) return Promise.reject(new Error(`unknown store operation ${op}`));
      return handler(args);
    },
  };
}
