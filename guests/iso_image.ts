/** ISO 9660 images made with xorriso: the bootable isolinux ISO and NoCloud seed CDs. */
import { run } from "./command.ts";

/** Inputs of {@link makeIsolinuxIso}. */
export interface IsolinuxIso {
  out: string;
  /** Scratch directory for the ISO tree (filled and left for the caller to remove). */
  staging: string;
  /** Host files placed on the ISO, by path on the ISO (e.g. `kiln/vmlinuz`). */
  files: Record<string, string>;
  /** isolinux.cfg text. */
  config: string;
  volumeId: string;
}

/**
 * Builds a BIOS-bootable ISO (El Torito, isolinux) that is also an isohybrid
 * disk image, so it boots from `-cdrom` and from a disk drive alike.
 */
export async function makeIsolinuxIso(iso: IsolinuxIso): Promise<void> {
  await Deno.mkdir(`${iso.staging}/isolinux`, { recursive: true });
  await Deno.copyFile("/usr/lib/ISOLINUX/isolinux.bin", `${iso.staging}/isolinux/isolinux.bin`);
  await Deno.copyFile(
    "/usr/lib/syslinux/modules/bios/ldlinux.c32",
    `${iso.staging}/isolinux/ldlinux.c32`,
  );
  await Deno.writeTextFile(`${iso.staging}/isolinux/isolinux.cfg`, iso.config);
  for (const [onIso, from] of Object.entries(iso.files)) {
    await Deno.mkdir(`${iso.staging}/${onIso}`.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.copyFile(from, `${iso.staging}/${onIso}`);
  }
  await run("xorriso", [
    "-as",
    "mkisofs",
    "-quiet",
    "-o",
    iso.out,
    "-V",
    iso.volumeId,
    "-R",
    "-J",
    "-b",
    "isolinux/isolinux.bin",
    "-c",
    "isolinux/boot.cat",
    "-no-emul-boot",
    "-boot-load-size",
    "4",
    "-boot-info-table",
    "-isohybrid-mbr",
    "/usr/lib/ISOLINUX/isohdpfx.bin",
    iso.staging,
  ]);
}

/** A cloud-init NoCloud seed: the files cloud-init reads from a CD labelled `cidata`. */
export interface NoCloudSeed {
  /** `#cloud-config` text (or any user-data cloud-init accepts). */
  userData: string;
  /** meta-data; defaults to a fresh instance-id, so cloud-init treats each boot as new. */
  metaData?: string;
  /** network-config (version 1 or 2), when the test wants one. */
  networkConfig?: string;
}

/** Writes a NoCloud seed ISO (volume label `cidata`) to `out`, staging its files in `out`.d. */
export async function makeSeedIso(out: string, seed: NoCloudSeed): Promise<void> {
  const staging = `${out}.d`;
  await Deno.mkdir(staging, { recursive: true });
  try {
    await Deno.writeTextFile(`${staging}/user-data`, seed.userData);
    await Deno.writeTextFile(
      `${staging}/meta-data`,
      seed.metaData ?? `instance-id: kiln-${crypto.randomUUID()}\nlocal-hostname: kiln-guest\n`,
    );
    if (seed.networkConfig !== undefined) {
      await Deno.writeTextFile(`${staging}/network-config`, seed.networkConfig);
    }
    // xorriso has been seen to die of SIGSEGV on a loaded machine; a second try succeeds.
    await retryOnCrash(() =>
      run("xorriso", [
        "-as",
        "mkisofs",
        "-quiet",
        "-o",
        out,
        "-V",
        "cidata",
        "-J",
        "-R",
        staging,
      ])
    );
  } finally {
    await Deno.remove(staging, { recursive: true });
  }
}

/** Runs `fn` again once when the tool it runs was killed by a signal (a crash, not a verdict). */
async function retryOnCrash<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!/UNIX-SIGNAL|killed by|signal/i.test(err instanceof Error ? err.message : String(err))) {
      throw err;
    }
    return await fn();
  }
}
