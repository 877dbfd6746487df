/**
 * The realistic guest's root file system: a Debian bookworm tree made by
 * mmdebstrap (systemd, openssh-server, cloud-init, sudo, the cloud kernel),
 * with realistic_root/ synced in and realistic_customize.sh run on it.
 */
import { run } from "../../../guests/command.ts";
import { StaleAptListsError } from "../../../guests/debian_packages.ts";

/** The files synced over the installed tree. */
export const realisticRootDir = new URL("./realistic_root/", import.meta.url);
/** The customize hook. */
export const realisticCustomizeScript = new URL("./realistic_customize.sh", import.meta.url);

/** Packages installed on top of mmdebstrap's `apt` variant (Essential + apt). */
export const realisticPackages = [
  "systemd-sysv",
  "udev",
  "dbus",
  "openssh-server",
  "cloud-init",
  "cloud-guest-utils",
  // resize2fs, for cloud-init's resizefs after growpart (not in the apt variant).
  "e2fsprogs",
  "sudo",
  "initramfs-tools",
  "iproute2",
  "netbase",
  "wget",
  "ca-certificates",
];

// Documentation, manuals and translations: a fifth of the tree, never read in a test guest.
const excluded = [
  "/usr/share/doc/*",
  "/usr/share/man/*",
  "/usr/share/info/*",
  "/usr/share/locale/*",
];

/** Builds the tree in `dir` (which must not exist), with `kernelPackage` pinned to `kernelVersion`. */
export async function buildRealisticRootfs(
  dir: string,
  kernelPackage: string,
  kernelVersion: string,
  rootUuid: string,
): Promise<void> {
  const args = [
    "--quiet",
    "--mode=root",
    "--variant=apt",
    `--include=${[...realisticPackages, `${kernelPackage}=${kernelVersion}`].join(",")}`,
    ...excluded.map((path) => `--dpkgopt=path-exclude=${path}`),
    `--customize-hook=sync-in ${decodeURIComponent(realisticRootDir.pathname)} /`,
    `--customize-hook=sh ${decodeURIComponent(realisticCustomizeScript.pathname)} "$1" ${rootUuid}`,
    "bookworm",
    dir,
  ];
  try {
    await run("mmdebstrap", args, { env: { DEBIAN_FRONTEND: "noninteractive" } });
  } catch (err) {
    // The pinned kernel version is gone from the mirror: the host's lists are older than it.
    if (/Version '[^']*' for '[^']*' was not found|404\s+Not Found/.test(String(err))) {
      throw new StaleAptListsError(String(err));
    }
    throw err;
  }
}

/** Installed packages and versions in the tree, from its dpkg database. */
export async function installedPackages(dir: string): Promise<Record<string, string>> {
  const out = await run("dpkg-query", [
    `--admindir=${dir}/var/lib/dpkg`,
    "-W",
    "-f",
    "${Package}\t${Version}\n",
  ]);
  return Object.fromEntries(out.trim().split("\n").map((line) => line.split("\t")));
}
