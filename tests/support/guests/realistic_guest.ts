/**
 * The realistic test guest: a Debian bookworm system (systemd, sshd,
 * cloud-init with the NoCloud datasource, sudo) on a BIOS-bootable disk —
 * an MBR, a FAT partition with syslinux, the kernel and the initrd, and an
 * ext4 root made by `mke2fs -d` — as raw and qcow2. Users and SSH keys come
 * from a cloud-init seed CD (see makeSeedIso), as on a cloud image.
 */
import { buildOnce, recipeFileDigests, testCacheRoot } from "./cache.ts";
import { resolveGuestPackages, retryWithFreshAptLists } from "../../../guests/debian_packages.ts";
import type { GuestFiles } from "../../../guests/guest_files.ts";
import { commonHostTools, ensureHostTools, installedVersions } from "../../../guests/host_tools.ts";
import {
  buildRealisticGuest,
  realisticConsoleArgs,
  realisticHostToolsInOutput,
  realisticRecipeFiles,
} from "./realistic_build.ts";
import { realisticPackages } from "./realistic_rootfs.ts";

/** The realistic guest's files in the cache. */
export interface RealisticGuest extends GuestFiles {
  /** The root file system's UUID (`root=UUID=...` on the boot line). */
  rootUuid: string;
}

/** Builds the realistic guest unless the cache has it (a few minutes); returns its files. */
export async function ensureRealisticGuest(): Promise<RealisticGuest> {
  const started = performance.now();
  await ensureHostTools(
    [...commonHostTools, { pkg: "mmdebstrap", probe: "/usr/bin/mmdebstrap" }],
    "the test guests need",
  );
  return await retryWithFreshAptLists(() => obtainRealisticGuest(started));
}

async function obtainRealisticGuest(started: number): Promise<RealisticGuest> {
  const { kernelPackage, versions: packages } = await resolveGuestPackages(
    realisticPackages,
    testCacheRoot(),
  );
  const key = {
    guest: "realistic",
    recipe: await recipeFileDigests(realisticRecipeFiles),
    packages,
    hostTools: await installedVersions(realisticHostToolsInOutput),
  };
  const { dir, fromCache } = await buildOnce(
    "realistic",
    key,
    (scratch) => buildRealisticGuest(scratch, kernelPackage, packages[kernelPackage]),
  );
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  return {
    dir,
    fromCache,
    secondsToObtain: (performance.now() - started) / 1000,
    kernel: `${dir}/vmlinuz`,
    initrd: `${dir}/initrd.img`,
    kernelArgs: `root=UUID=${manifest.rootUuid} ro ${realisticConsoleArgs}`,
    rawDisk: `${dir}/disk.raw`,
    qcow2Disk: `${dir}/disk.qcow2`,
    rootUuid: manifest.rootUuid,
  };
}
