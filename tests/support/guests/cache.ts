/**
 * The test guests' cache: the product's guest cache (guests/cache.ts) under
 * the tests' own root, so test runs never touch the user's kiln cache.
 */
import { buildOnce as buildOnceIn, type CachedBuild } from "../../../guests/cache.ts";

export {
  type CachedBuild,
  filesUnder,
  recipeFileDigests,
  sha256Hex,
} from "../../../guests/cache.ts";

/** Where test caches live: `$KILN_TEST_CACHE`, else `~/.cache/kiln-test`. */
export function testCacheRoot(): string {
  const configured = Deno.env.get("KILN_TEST_CACHE");
  if (configured) return configured;
  const home = Deno.env.get("HOME");
  if (!home) {
    throw new Error("neither KILN_TEST_CACHE nor HOME is set: no place for the test cache");
  }
  return `${home}/.cache/kiln-test`;
}

/**
 * Returns `<test cache>/guests/<kind>-<digest of key>`, running
 * `build(scratchDir)` first when it does not exist yet (see guests/cache.ts).
 */
export function buildOnce(
  kind: string,
  key: unknown,
  build: (scratchDir: string) => Promise<void>,
): Promise<CachedBuild> {
  return buildOnceIn(testCacheRoot(), kind, key, build);
}
