/**
 * The fast test guest: the product's fast guest (guests/fast_guest.ts),
 * cached under the test cache root.
 */
import {
  ensureFastGuest as ensureFastGuestIn,
  type FastGuest,
} from "../../../guests/fast_guest.ts";
import { testCacheRoot } from "./cache.ts";

export type { FastGuest };
export { fastGuestKernelArgs } from "../../../guests/fast_build.ts";

/** Builds the fast guest unless the test cache has it; returns its files. */
export function ensureFastGuest(): Promise<FastGuest> {
  return ensureFastGuestIn({ cacheRoot: testCacheRoot(), purpose: "the test guests need" });
}
