/**
 * BIOS-bootable disk images built as plain files, without loop devices or
 * mounts: an MBR (syslinux's boot code and a partition table written by
 * sfdisk), a FAT boot partition made by mkfs.fat, filled with mtools and made
 * bootable by syslinux's mtools installer, and optionally an ext4 root
 * partition populated by `mke2fs -d`. Every tool writes in place at the
 * partition's offset.
 */
import { run } from "./command.ts";

const MiB = 1024 * 1024;
const firstPartitionMiB = 1;
// mtools refuses FAT geometries that do not divide into whole tracks; they are irrelevant here.
const mtoolsEnv = { MTOOLS_SKIP_CHECK: "1" };

/** An ext4 root partition made from a directory tree. */
export interface RootPartition {
  tree: string;
  sizeMiB: number;
  /** File-system UUID (the boot line says `root=UUID=...`). */
  uuid: string;
  label: string;
}

/** Inputs of {@link makeSyslinuxDisk}. */
export interface SyslinuxDisk {
  out: string;
  bootMiB: number;
  /** Host files copied into the FAT partition's root, by name there. */
  bootFiles: Record<string, string>;
  /** syslinux.cfg text. */
  config: string;
  root?: RootPartition;
}

/** Builds the raw disk image at `out` (sparse: untouched space stays unallocated). */
export async function makeSyslinuxDisk(disk: SyslinuxDisk): Promise<void> {
  const bootStart = firstPartitionMiB * MiB;
  const rootStart = bootStart + disk.bootMiB * MiB;
  const total = rootStart + (disk.root?.sizeMiB ?? 0) * MiB;
  const file = await Deno.open(disk.out, { create: true, write: true, truncate: true });
  await file.truncate(total);
  file.close();

  const sectors = (bytes: number) => bytes / 512;
  const table = [
    "label: dos",
    "label-id: 0x4b494c4e",
    `start=${sectors(bootStart)}, size=${sectors(disk.bootMiB * MiB)}, type=e, bootable`,
    ...(disk.root
      ? [`start=${sectors(rootStart)}, size=${sectors(disk.root.sizeMiB * MiB)}, type=83`]
      : []),
    "",
  ].join("\n");
  await run("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", disk.out], { stdin: table });
  await writeMbrBootCode(disk.out);

  // -h: the partition's start sector, which the syslinux boot sector reads to find itself.
  await run("mkfs.fat", [
    "-F",
    "16",
    "-n",
    "KILNBOOT",
    "-h",
    String(sectors(bootStart)),
    "--offset",
    String(sectors(bootStart)),
    disk.out,
    String(disk.bootMiB * 1024),
  ]);
  const fat = `${disk.out}@@${bootStart}`;
  const config = `${disk.out}.syslinux.cfg`;
  await Deno.writeTextFile(config, disk.config);
  try {
    await run("mcopy", ["-i", fat, config, "::syslinux.cfg"], { env: mtoolsEnv });
  } finally {
    await Deno.remove(config);
  }
  for (const [name, from] of Object.entries(disk.bootFiles)) {
    await run("mcopy", ["-i", fat, from, `::${name}`], { env: mtoolsEnv });
  }
  await run("syslinux", ["--offset", String(bootStart), "--install", disk.out], { env: mtoolsEnv });

  if (disk.root) {
    const { tree, sizeMiB, uuid, label } = disk.root;
    await run("mke2fs", [
      "-q",
      "-F",
      "-t",
      "ext4",
      "-L",
      label,
      "-U",
      uuid,
      "-d",
      tree,
      "-E",
      `offset=${rootStart},root_owner=0:0`,
      disk.out,
      `${sizeMiB * 1024}k`,
    ]);
  }
}

/** syslinux's MBR code: 440 bytes that chain-load the active partition's boot sector. */
async function writeMbrBootCode(image: string): Promise<void> {
  const code = (await Deno.readFile("/usr/lib/syslinux/mbr/mbr.bin")).subarray(0, 440);
  const file = await Deno.open(image, { write: true });
  try {
    await file.write(code);
  } finally {
    file.close();
  }
}

/** Converts a raw image to qcow2 next to it (zeros and holes are left out). */
export async function convertToQcow2(raw: string, qcow2: string): Promise<void> {
  await run("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);
}
