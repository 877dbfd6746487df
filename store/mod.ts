/**
 * The shared run store: a run's log, seal, snapshots and resume secrets in
 * S3 (or an S3-compatible store), so any machine that can read the bucket
 * can list, replay, resume or clean up the run. See docs/store.md.
 *
 * @example
 * ```ts
 * import { useStoreFromEnv } from "./store/mod.ts";
 * // KILN_STORE=s3://bucket/prefix KILN_STORE_KEY_FILE=team.key
 * const store = useStoreFromEnv();
 * if (store) console.log(`runs live in ${store.url}`);
 * ```
 * @module
 */
import { setRunStoreBackend } from "../runtime/replica.ts";
import { S3RunStore } from "./backend.ts";
import { defaultCacheHome, storeConfigFromEnv } from "./config.ts";
import { loadTeamKey } from "./envelope.ts";
import { join } from "node:path";

export { S3RunStore } from "./backend.ts";
export { parseStoreUrl, type StoreConfig, StoreConfigError, storeConfigFromEnv } from "./config.ts";

/**
 * Plugs the store the environment names (KILN_STORE) into the runtime:
 * working copies go to KILN_HOME (default: a per-store cache directory)
 * and their local seals beside them. Undefined when no store is set; throws
 * StoreConfigError for a store that cannot be used.
 *
 * @example
 * ```ts
 * Deno.env.set("KILN_STORE", "s3://team-images/kiln");
 * Deno.env.set("KILN_STORE_KEY_FILE", "/etc/kiln/team.key");
 * const store = useStoreFromEnv();
 * ```
 */
export function useStoreFromEnv(): S3RunStore | undefined {
  const config = storeConfigFromEnv();
  if (!config) return undefined;
  // A bad key file is refused before anything starts.
  if (config.keyFile) loadTeamKey(config.keyFile);
  const home = Deno.env.get("KILN_HOME") || defaultCacheHome(config.url);
  Deno.env.set("KILN_HOME", home);
  // The working copy's seals are a cache of the store's: the team key is the anchor.
  Deno.env.set("KILN_SEAL_DIR", join(home, "seals"));
  const store = new S3RunStore(config);
  store.warm();
  setRunStoreBackend(store);
  return store;
}
