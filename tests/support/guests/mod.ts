/**
 * Test guests for the qemu builder's tests: build (once, cached) and boot.
 * See README.md in this directory.
 */
export { ensureFastGuest, type FastGuest, fastGuestKernelArgs } from "./fast_guest.ts";
export { ensureRealisticGuest, type RealisticGuest } from "./realistic_guest.ts";
export type { GuestFiles } from "./guest_files.ts";
export { bootGuest, type BootOptions, type GuestHandle } from "./boot_guest.ts";
export { makeSeedIso, type NoCloudSeed } from "./iso_image.ts";
export { bootLabel } from "./syslinux_config.ts";
export { sshArgs, type SshResult, sshRun, type SshTarget } from "./ssh_client.ts";
export { testCacheRoot } from "./cache.ts";
