/**
 * The realistic test guest: a Debian bookworm system (systemd, sshd,
 * cloud-init with the NoCloud datasource, sudo) on a BIOS-bootable disk —
 * an MBR, a FAT partition with syslinux, the kernel and the initrd, and an
 * ext4 root made by `mke2fs -d` — as raw and qcow2. Users and SSH keys come
 * from a cloud-init seed CD (see makeSeedIso), as on a cloud image.
 */
import { buildOnce, recipeFileDigests } from "./cache.ts";
import {
  candidateVersions,
  cloudKernelPackage,
  retryWithFreshAptLists,
} from "./debian_packages.ts";
import type { GuestFiles } from "./guest_files.ts";
import { commonHostTools, ensureHostTools, installedVersions } from "./host_tools.ts";
import { convertToQcow2, makeSyslinuxDisk } from "./mbr_disk.ts";
import {
  buildRealisticRootfs,
  installedPackages,
  realisticCustomizeScript,
  realisticPackages,
  realisticRootDir,
} from "./realistic_rootfs.ts";
import { syslinuxConfig } from "./syslinux_config.ts";

const diskMiB = 2048;
const bootMiB = 64;

const recipeFiles = [
  new URL("./realistic_guest.ts", import.meta.url),
  new URL("./realistic_rootfs.ts", import.meta.url),
  new URL("./mbr_disk.ts", import.meta.url),
  new URL("./syslinux_config.ts", import.meta.url),
  realisticCustomizeScript,
  ...[
    "etc/cloud/cloud.cfg.d/90_kiln.cfg",
    "etc/systemd/network/80-kiln-dhcp.network",
    "etc/systemd/system/systemd-networkd-wait-online.service.d/kiln.conf",
    "etc/systemd/system/ssh.service.d/kiln.conf",
    "etc/systemd/system/kiln-ready.service",
    "etc/systemd/system/cloud-config.service.d/kiln.conf",
    "etc/systemd/journald.conf.d/kiln.conf",
    "etc/initramfs-tools/conf.d/kiln.conf",
    "etc/initramfs-tools/modules",
  ].map((f) => new URL(f, realisticRootDir)),
];

const hostToolsInOutput = [
  "mmdebstrap",
  "syslinux",
  "syslinux-common",
  "mtools",
  "dosfstools",
  "fdisk",
  "e2fsprogs",
  "qemu-utils",
];

/** Kernel arguments besides the root: console on the VNC screen, then the serial port (/dev/console). */
export const realisticConsoleArgs = "console=tty0 console=ttyS0,115200";

/** The realistic guest's files in the cache. */
export interface RealisticGuest extends GuestFiles {
  /** The root file system's UUID (`root=UUID=...` on the boot line). */
  rootUuid: string;
}

/** Builds the realistic guest unless the cache has it (a few minutes); returns its files. */
export async function ensureRealisticGuest(): Promise<RealisticGuest> {
  await ensureHostTools([...commonHostTools, { pkg: "mmdebstrap", probe: "/usr/bin/mmdebstrap" }]);
  return await retryWithFreshAptLists(obtainRealisticGuest);
}

async function obtainRealisticGuest(): Promise<RealisticGuest> {
  const kernelPackage = await cloudKernelPackage();
  const packages = await candidateVersions([kernelPackage, ...realisticPackages]);
  const key = {
    guest: "realistic",
    recipe: await recipeFileDigests(recipeFiles),
    packages,
    hostTools: await installedVersions(hostToolsInOutput),
  };
  const started = performance.now();
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

async function buildRealisticGuest(out: string, kernelPackage: string, kernelVersion: string) {
  const started = performance.now();
  const tree = `${out}/rootfs`;
  const rootUuid = crypto.randomUUID();
  await buildRealisticRootfs(tree, kernelPackage, kernelVersion, rootUuid);
  const abi = kernelPackage.replace(/^linux-image-/, "");
  await Deno.copyFile(`${tree}/boot/vmlinuz-${abi}`, `${out}/vmlinuz`);
  await Deno.copyFile(`${tree}/boot/initrd.img-${abi}`, `${out}/initrd.img`);
  const installed = await installedPackages(tree);
  const treeSeconds = (performance.now() - started) / 1000;

  await makeSyslinuxDisk({
    out: `${out}/disk.raw`,
    bootMiB,
    bootFiles: { "vmlinuz": `${out}/vmlinuz`, "initrd.img": `${out}/initrd.img` },
    config: syslinuxConfig({
      kernel: "/vmlinuz",
      initrd: "/initrd.img",
      append: `root=UUID=${rootUuid} ro ${realisticConsoleArgs}`,
      waitForTypedLine: false,
    }),
    root: { tree, sizeMiB: diskMiB - 1 - bootMiB, uuid: rootUuid, label: "kiln-root" },
  });
  await Deno.remove(tree, { recursive: true });
  await convertToQcow2(`${out}/disk.raw`, `${out}/disk.qcow2`);

  const sizes: Record<string, number> = {};
  for (const name of ["vmlinuz", "initrd.img", "disk.raw", "disk.qcow2"]) {
    sizes[name] = (await Deno.stat(`${out}/${name}`)).size;
  }
  await Deno.writeTextFile(
    `${out}/manifest.json`,
    JSON.stringify(
      {
        guest: "realistic",
        rootUuid,
        sizes,
        treeSeconds: Math.round(treeSeconds * 10) / 10,
        buildSeconds: Math.round((performance.now() - started) / 100) / 10,
        installed,
      },
      null,
      2,
    ) + "\n",
  );
}
