/**
 * The fast guest: Debian's cloud kernel and a busybox + dropbear initramfs,
 * as kernel/initrd files, an isolinux ISO that waits at `boot:` for a typed
 * line, and a syslinux disk image (raw and qcow2) that boots on its own.
 * Built from Debian packages once per cache root and cached (see cache.ts):
 * `kiln demo` builds its machine image from it, the qemu tests boot it.
 */
import { buildOnce, recipeFileDigests } from "./cache.ts";
import { resolveGuestPackages, retryWithFreshAptLists } from "./debian_packages.ts";
import {
  buildFastGuest,
  fastGuestKernelArgs,
  fastGuestPackages,
  fastHostToolsInOutput,
  fastRecipeFiles,
} from "./fast_build.ts";
import type { GuestFiles } from "./guest_files.ts";
import { commonHostTools, ensureHostTools, installedVersions } from "./host_tools.ts";

export { fastGuestKernelArgs };

/** The fast guest's files in the cache. */
export interface FastGuest extends GuestFiles {
  /**
   * The isolinux ISO: stops at `boot:` until `kiln <kernel args>` and Enter
   * are typed. With `kiln.install=<disk>` (e.g. `vda`) among the arguments the
   * guest writes the fast disk image onto that disk before it is ready, so the
   * disk boots on its own afterwards, like an installed system, and mounts the
   * disk's FAT boot partition read-write at `/target`: the running system is
   * in RAM, so files written under `/target` are what the disk keeps.
   */
  iso: string;
  /**
   * A key pair generated at build time; its public half is authorised for
   * root in every boot (a seed or a `kiln.authorized_key=` argument adds more).
   */
  privateKey: string;
  publicKey: string;
  sshUser: "root";
}

/** Where and how {@link ensureFastGuest} works. */
export interface FastGuestOptions {
  /** The cache root (`<root>/guests/fast-<digest>`), e.g. `userCacheRoot()` (cache.ts). */
  cacheRoot: string;
  /** Who needs missing host packages, for the line saying they are installed. */
  purpose?: string;
  /** Told when this call builds the guest (the cache has no entry for its recipe). */
  onBuild?: (entry: string) => void;
}

/**
 * Builds the fast guest unless the cache has it; returns its files. Missing
 * host tools are installed with apt (needs root).
 */
export async function ensureFastGuest(options: FastGuestOptions): Promise<FastGuest> {
  const started = performance.now();
  await ensureHostTools(commonHostTools, options.purpose);
  return await retryWithFreshAptLists(() => obtainFastGuest(started, options));
}

async function obtainFastGuest(started: number, options: FastGuestOptions): Promise<FastGuest> {
  const { kernelPackage, versions: packages } = await resolveGuestPackages(
    fastGuestPackages,
    options.cacheRoot,
  );
  const key = {
    guest: "fast",
    recipe: await recipeFileDigests(fastRecipeFiles),
    packages,
    hostTools: await installedVersions(fastHostToolsInOutput),
  };
  const { dir, fromCache } = await buildOnce(options.cacheRoot, "fast", key, (scratch) => {
    options.onBuild?.(scratch);
    return buildFastGuest(scratch, packages, kernelPackage);
  });
  return {
    dir,
    fromCache,
    secondsToObtain: (performance.now() - started) / 1000,
    kernel: `${dir}/vmlinuz`,
    initrd: `${dir}/initrd.img`,
    iso: `${dir}/fast.iso`,
    rawDisk: `${dir}/disk.raw`,
    qcow2Disk: `${dir}/disk.qcow2`,
    privateKey: `${dir}/id_ed25519`,
    publicKey: (await Deno.readTextFile(`${dir}/id_ed25519.pub`)).trim(),
    kernelArgs: fastGuestKernelArgs,
    sshUser: "root",
  };
}
