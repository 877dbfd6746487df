/**
 * How the realistic guest is built (its recipe): an mmdebstrap tree on a
 * syslinux disk with an ext4 root made by `mke2fs -d`.
 */
import { filesUnder } from "../../../guests/cache.ts";
import { convertToQcow2, makeSyslinuxDisk } from "../../../guests/mbr_disk.ts";
import {
  buildRealisticRootfs,
  installedPackages,
  realisticCustomizeScript,
  realisticRootDir,
} from "./realistic_rootfs.ts";
import { syslinuxConfig } from "../../../guests/syslinux_config.ts";

const diskMiB = 2048;
const bootMiB = 64;

/** The files whose content decides what is built (part of the cache key). */
export const realisticRecipeFiles = [
  new URL("./realistic_build.ts", import.meta.url),
  new URL("./realistic_rootfs.ts", import.meta.url),
  new URL("../../../guests/mbr_disk.ts", import.meta.url),
  new URL("../../../guests/syslinux_config.ts", import.meta.url),
  realisticCustomizeScript,
  ...filesUnder(realisticRootDir),
];

/** Host packages whose output ends up in the guest (part of the cache key). */
export const realisticHostToolsInOutput = [
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

/**
 * Builds the realistic guest into `out`: the tree with mmdebstrap, then
 * vmlinuz, initrd.img, disk.raw, disk.qcow2 and manifest.json (with the root
 * UUID and every installed package).
 */
export async function buildRealisticGuest(
  out: string,
  kernelPackage: string,
  kernelVersion: string,
): Promise<void> {
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
