/**
 * Test guests for the qemu builder's tests: build (once, cached) and boot.
 * The fast guest's recipe is product code (guests/); this directory adds the
 * realistic guest, the test cache root and the tools to boot and drive them.
 * See README.md in this directory.
 */
export { ensureFastGuest, type FastGuest, fastGuestKernelArgs } from "./fast_guest.ts";
export { ensureRealisticGuest, type RealisticGuest } from "./realistic_guest.ts";
export type { GuestFiles } from "../../../guests/guest_files.ts";
export { bootGuest, type BootOptions, type GuestHandle } from "./boot_guest.ts";
export { makeSeedIso, type NoCloudSeed } from "../../../guests/iso_image.ts";
export { bootLabel } from "../../../guests/syslinux_config.ts";
export { sshArgs, type SshResult, sshRun, type SshTarget } from "./ssh_client.ts";
export { testCacheRoot } from "./cache.ts";
