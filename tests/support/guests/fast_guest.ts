/**
 * The fast test guest: Debian's cloud kernel and a busybox + dropbear
 * initramfs, as kernel/initrd files, an isolinux ISO that waits at `boot:`
 * for a typed line, and a syslinux disk image (raw and qcow2) that boots on
 * its own. Built from Debian packages once and cached (see cache.ts).
 */
import { gzipSync } from "node:zlib";
import { buildOnce, recipeFileDigests } from "./cache.ts";
import { run } from "./command.ts";
import {
  candidateVersions,
  cloudKernelPackage,
  downloadPackages,
  retryWithFreshAptLists,
  unpackDeb,
} from "./debian_packages.ts";
import { buildFastInitramfs, fastRootDir } from "./fast_initramfs.ts";
import { commonHostTools, ensureHostTools, installedVersions } from "./host_tools.ts";
import { makeIsolinuxIso } from "./iso_image.ts";
import { modulesInLoadOrder } from "./kernel_modules.ts";
import { convertToQcow2, makeSyslinuxDisk } from "./mbr_disk.ts";
import { syslinuxConfig } from "./syslinux_config.ts";
import type { GuestFiles } from "./guest_files.ts";

/** Kernel arguments of every fast-guest boot: console on the VNC screen and, last (so /dev/console), the serial port. */
export const fastGuestKernelArgs = "console=tty0 console=ttyS0,115200";

/**
 * Modules for qemu's virtio devices, IDE CD-ROMs (seeds) and ISO 9660.
 * virtio_rng: with a virtio-rng device the kernel's random pool is ready at
 * once; without one, the first getrandom() (dropbear's host key) waits
 * about 1.4 s under TCG for jitter entropy.
 */
const fastModules = [
  "virtio_pci",
  "virtio_net",
  "virtio_blk",
  "virtio_scsi",
  "virtio_rng",
  "ata_piix",
  "sd_mod",
  "sr_mod",
  "isofs",
];

const guestPackages = [
  "busybox-static",
  "dropbear-bin",
  "libc6",
  "libcrypt1",
  "zlib1g",
  "libtomcrypt1",
  "libtommath1",
  "libgmp10",
];

const recipeFiles = [
  new URL("./fast_guest.ts", import.meta.url),
  new URL("./fast_initramfs.ts", import.meta.url),
  new URL("./cpio_newc.ts", import.meta.url),
  new URL("./kernel_modules.ts", import.meta.url),
  new URL("./syslinux_config.ts", import.meta.url),
  new URL("./iso_image.ts", import.meta.url),
  new URL("./mbr_disk.ts", import.meta.url),
  ...[
    "etc/inittab",
    "etc/passwd",
    "etc/group",
    "etc/shells",
    "etc/kiln/rc",
    "etc/kiln/stop",
    "etc/kiln/udhcpc",
    "usr/bin/sudo",
    "usr/bin/shutdown",
  ].map((f) => new URL(f, fastRootDir)),
];

const hostToolsInOutput = [
  "isolinux",
  "syslinux",
  "syslinux-common",
  "mtools",
  "dosfstools",
  "fdisk",
  "xorriso",
  "qemu-utils",
];

/** The fast guest's files in the cache. */
export interface FastGuest extends GuestFiles {
  /**
   * The isolinux ISO: stops at `boot:` until `kiln <kernel args>` and Enter
   * are typed. With `kiln.install=<disk>` (e.g. `vda`) among the arguments the
   * guest writes the fast disk image onto that disk before it is ready, so the
   * disk boots on its own afterwards, like an installed system.
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

/** Builds the fast guest unless the cache has it; returns its files. */
export async function ensureFastGuest(): Promise<FastGuest> {
  await ensureHostTools(commonHostTools);
  return await retryWithFreshAptLists(obtainFastGuest);
}

async function obtainFastGuest(): Promise<FastGuest> {
  const kernelPackage = await cloudKernelPackage();
  const packages = await candidateVersions([kernelPackage, ...guestPackages]);
  const key = {
    guest: "fast",
    recipe: await recipeFileDigests(recipeFiles),
    packages,
    hostTools: await installedVersions(hostToolsInOutput),
  };
  const started = performance.now();
  const { dir, fromCache } = await buildOnce(
    "fast",
    key,
    (scratch) => buildFastGuest(scratch, packages, kernelPackage),
  );
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

async function buildFastGuest(
  out: string,
  packages: Record<string, string>,
  kernelPackage: string,
): Promise<void> {
  const started = performance.now();
  const work = `${out}/work`;
  await Deno.mkdir(`${work}/debs`, { recursive: true });
  const debs = await downloadPackages(packages, `${work}/debs`);
  const unpacked = `${work}/root`;
  for (const deb of Object.values(debs)) await unpackDeb(deb, unpacked);

  const abi = kernelPackage.replace(/^linux-image-/, "");
  const modulesDir = `${unpacked}/lib/modules/${abi}`;
  const modules = await modulesInLoadOrder(modulesDir, fastModules);
  await Deno.copyFile(`${unpacked}/boot/vmlinuz-${abi}`, `${out}/vmlinuz`);

  await run("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    "kiln-fast-guest",
    "-f",
    `${out}/id_ed25519`,
  ]);
  const bakedPublicKey = (await Deno.readTextFile(`${out}/id_ed25519.pub`)).trim();
  await Deno.writeFile(
    `${out}/initrd.img`,
    await buildFastInitramfs({ unpacked, modulesDir, modules, bakedPublicKey }),
  );

  await makeSyslinuxDisk({
    out: `${out}/disk.raw`,
    bootMiB: 40,
    bootFiles: { "vmlinuz": `${out}/vmlinuz`, "initrd.img": `${out}/initrd.img` },
    config: syslinuxConfig({
      kernel: "/vmlinuz",
      initrd: "/initrd.img",
      append: fastGuestKernelArgs,
      waitForTypedLine: false,
    }),
  });
  // The ISO carries the disk for `kiln.install=<disk>`, as an installer carries its system.
  await Deno.writeFile(`${work}/disk.raw.gz`, gzipSync(await Deno.readFile(`${out}/disk.raw`)));

  await makeIsolinuxIso({
    out: `${out}/fast.iso`,
    staging: `${work}/iso`,
    files: {
      "kiln/vmlinuz": `${out}/vmlinuz`,
      "kiln/initrd.img": `${out}/initrd.img`,
      "kiln/disk.raw.gz": `${work}/disk.raw.gz`,
    },
    config: syslinuxConfig({
      kernel: "/kiln/vmlinuz",
      initrd: "/kiln/initrd.img",
      append: fastGuestKernelArgs,
      waitForTypedLine: true,
      banner: "kiln fast guest: type 'kiln <kernel arguments>' and press Enter",
    }),
    volumeId: "KILN_FAST",
  });

  await convertToQcow2(`${out}/disk.raw`, `${out}/disk.qcow2`);
  await Deno.remove(work, { recursive: true });

  const sizes: Record<string, number> = {};
  for (const name of ["vmlinuz", "initrd.img", "fast.iso", "disk.raw", "disk.qcow2"]) {
    sizes[name] = (await Deno.stat(`${out}/${name}`)).size;
  }
  await Deno.writeTextFile(
    `${out}/manifest.json`,
    JSON.stringify(
      {
        guest: "fast",
        packages,
        modules: modules.map((m) => m.name),
        sizes,
        buildSeconds: Math.round((performance.now() - started) / 100) / 10,
      },
      null,
      2,
    ) + "\n",
  );
}
