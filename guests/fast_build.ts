/**
 * How the fast guest is built (its recipe): Debian's cloud kernel, an
 * initramfs with busybox and dropbear, a syslinux disk image and an isolinux
 * ISO that carries it.
 */
import { gzipSync } from "node:zlib";
import { filesUnder } from "./cache.ts";
import { run } from "./command.ts";
import { downloadPackages, unpackDeb } from "./debian_packages.ts";
import { buildFastInitramfs, fastRootDir } from "./fast_initramfs.ts";
import { makeIsolinuxIso } from "./iso_image.ts";
import { modulesInLoadOrder } from "./kernel_modules.ts";
import { convertToQcow2, makeSyslinuxDisk } from "./mbr_disk.ts";
import { syslinuxConfig } from "./syslinux_config.ts";

/** Kernel arguments of every fast-guest boot: console on the VNC screen and, last (so /dev/console), the serial port. */
export const fastGuestKernelArgs = "console=tty0 console=ttyS0,115200";

/**
 * Modules for qemu's virtio devices, IDE CD-ROMs (seeds), ISO 9660 and FAT.
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
  // The installed disk's FAT boot partition, mounted at /target after kiln.install.
  "vfat",
  "nls_cp437",
  "nls_ascii",
];

/** Debian packages the fast guest is made of, besides the kernel. */
export const fastGuestPackages = [
  "busybox-static",
  "dropbear-bin",
  // Only its scp: the server side of Packer's default file transfer (`scp -t`).
  "openssh-client",
  "libc6",
  "libcrypt1",
  "zlib1g",
  "libtomcrypt1",
  "libtommath1",
  "libgmp10",
];

/** The files whose content decides what is built (part of the cache key). */
export const fastRecipeFiles = [
  new URL("./fast_build.ts", import.meta.url),
  new URL("./fast_initramfs.ts", import.meta.url),
  new URL("./cpio_newc.ts", import.meta.url),
  new URL("./kernel_modules.ts", import.meta.url),
  new URL("./syslinux_config.ts", import.meta.url),
  new URL("./iso_image.ts", import.meta.url),
  new URL("./mbr_disk.ts", import.meta.url),
  ...filesUnder(fastRootDir),
];

/** Host packages whose output ends up in the guest (part of the cache key). */
export const fastHostToolsInOutput = [
  "isolinux",
  "syslinux",
  "syslinux-common",
  "mtools",
  "dosfstools",
  "fdisk",
  "xorriso",
  "qemu-utils",
];

/**
 * Builds the fast guest into `out`: downloads and unpacks the packages, writes
 * vmlinuz, initrd.img, disk.raw, disk.qcow2, fast.iso, a key pair and
 * manifest.json.
 */
export async function buildFastGuest(
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
