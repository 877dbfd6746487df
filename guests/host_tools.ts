/**
 * The host packages the guest builds and boots need, installed with apt when
 * missing (as tests/run.ts does for the rest of the suite), and their versions
 * for the cache key: a new isolinux or e2fsprogs can change what is built.
 */
import { exists } from "../runtime/fs.ts";
import { run } from "./command.ts";

/** A Debian package and a file that proves it is installed. */
export interface HostTool {
  pkg: string;
  probe: string;
}

/** Tools every guest build uses: disk, ISO and boot-loader makers, qemu and the ssh client. */
export const commonHostTools: HostTool[] = [
  { pkg: "qemu-system-x86", probe: "/usr/bin/qemu-system-x86_64" },
  { pkg: "qemu-utils", probe: "/usr/bin/qemu-img" },
  { pkg: "xorriso", probe: "/usr/bin/xorriso" },
  { pkg: "isolinux", probe: "/usr/lib/ISOLINUX/isolinux.bin" },
  { pkg: "syslinux", probe: "/usr/bin/syslinux" },
  { pkg: "syslinux-common", probe: "/usr/lib/syslinux/modules/bios/ldlinux.c32" },
  { pkg: "mtools", probe: "/usr/bin/mcopy" },
  { pkg: "dosfstools", probe: "/usr/sbin/mkfs.fat" },
  { pkg: "fdisk", probe: "/usr/sbin/sfdisk" },
  { pkg: "e2fsprogs", probe: "/usr/sbin/mke2fs" },
  { pkg: "openssh-client", probe: "/usr/bin/ssh-keygen" },
];

/** The packages among `tools` whose probe file is missing. */
export async function missingHostTools(tools: HostTool[]): Promise<string[]> {
  const missing: string[] = [];
  for (const { pkg, probe } of tools) if (!(await exists(probe))) missing.push(pkg);
  return missing;
}

/**
 * Installs the packages whose probe file is missing (needs root), saying so
 * on stderr: `installing Debian packages <purpose>: ...`.
 */
export async function ensureHostTools(
  tools: HostTool[],
  purpose = "the guests need",
): Promise<void> {
  const missing = await missingHostTools(tools);
  if (missing.length === 0) return;
  console.error(`installing Debian packages ${purpose}: apt-get install -y ${missing.join(" ")}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  // Parallel test processes may install at once: wait for dpkg's lock instead of failing.
  const lock = ["-o", "DPkg::Lock::Timeout=300"];
  try {
    await run("apt-get", ["install", "-y", "-qq", ...lock, ...missing], { env });
  } catch {
    await run("apt-get", ["update", "-qq", ...lock], { env });
    await run("apt-get", ["install", "-y", "-qq", ...lock, ...missing], { env });
  }
}

/** Installed versions of host packages, as dpkg reports them. */
export async function installedVersions(pkgs: string[]): Promise<Record<string, string>> {
  const out = await run("dpkg-query", ["-W", "-f", "${Package}\t${Version}\n", ...pkgs]);
  const versions: Record<string, string> = {};
  for (const line of out.trim().split("\n")) {
    const [name, version] = line.split("\t");
    versions[name] = version;
  }
  return versions;
}
