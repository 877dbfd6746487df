/**
 * Guest systems kiln builds for itself from Debian packages, cached per
 * recipe: the fast guest (busybox + dropbear on Debian's cloud kernel) that
 * `kiln demo` turns into a machine image, and that the qemu tests boot.
 * See README.md in this directory.
 */
export { ensureFastGuest, type FastGuest, type FastGuestOptions } from "./fast_guest.ts";
export { fastGuestKernelArgs } from "./fast_build.ts";
export type { GuestFiles } from "./guest_files.ts";
export {
  buildOnce,
  type CachedBuild,
  filesUnder,
  recipeFileDigests,
  sha256Hex,
  userCacheRoot,
} from "./cache.ts";
export {
  commonHostTools,
  ensureHostTools,
  type HostTool,
  installedVersions,
  missingHostTools,
} from "./host_tools.ts";
export { makeSeedIso, type NoCloudSeed } from "./iso_image.ts";
export { bootLabel } from "./syslinux_config.ts";
