/**
 * What a kiln process pays before its first store request, measured in a
 * process of its own (`deno run -A bench/store/store_start.ts` with the
 * KILN_STORE environment): loading store/, starting the store worker (a
 * thread that loads the AWS SDK) up to the answer of its first request,
 * then one more request for comparison. Prints one JSON line (seconds).
 */
import { useStoreFromEnv } from "../../store/mod.ts";

/** The seconds each part took. */
export interface StoreStart {
  /** useStoreFromEnv: config, team key, the worker's creation. */
  setup: number;
  /** The first `runs` listing request: worker start, SDK load, connection, answer. */
  firstRequest: number;
  /** The same request again, worker and connection warm. */
  nextRequest: number;
}

if (import.meta.main) {
  const t0 = performance.now();
  const store = useStoreFromEnv();
  if (!store) {
    console.error("store_start.ts: set KILN_STORE (and the rest of the store's environment)");
    Deno.exit(2);
  }
  const t1 = performance.now();
  await store.list();
  const t2 = performance.now();
  await store.list();
  const t3 = performance.now();
  await store.close();
  const start: StoreStart = {
    setup: (t1 - t0) / 1000,
    firstRequest: (t2 - t1) / 1000,
    nextRequest: (t3 - t2) / 1000,
  };
  console.log(JSON.stringify(start));
}
