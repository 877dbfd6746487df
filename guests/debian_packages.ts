/**
 * Debian packages as build inputs: their candidate versions from apt's lists
 * (part of a guest's cache key), fetched with `apt-get download` and unpacked
 * with `dpkg-deb -x`, so nothing is installed on the host for the guest.
 */
import { sha256Hex } from "./cache.ts";
import { run } from "./command.ts";

const env = { DEBIAN_FRONTEND: "noninteractive" };
// apt drops to the _apt user to download, which cannot write into root's temp directories.
const aptOptions = ["-o", "APT::Sandbox::User=root", "-o", "DPkg::Lock::Timeout=300"];

async function candidates(pkgs: string[]): Promise<Map<string, string>> {
  const out = await run("apt-cache", ["policy", ...pkgs], { env });
  const found = new Map<string, string>();
  let current = "";
  for (const line of out.split("\n")) {
    const header = line.match(/^(\S+):$/);
    if (header) current = header[1];
    const candidate = line.match(/^\s+Candidate: (\S+)/);
    if (candidate && candidate[1] !== "(none)") found.set(current, candidate[1]);
  }
  return found;
}

/**
 * The version apt would install for each package; refreshes apt's lists once
 * when a package is unknown (a fresh machine has none).
 */
export async function candidateVersions(pkgs: string[]): Promise<Record<string, string>> {
  let found = await candidates(pkgs);
  if (pkgs.some((p) => !found.has(p))) {
    await run("apt-get", ["update", "-qq", ...aptOptions], { env });
    found = await candidates(pkgs);
  }
  const missing = pkgs.filter((p) => !found.has(p));
  if (missing.length > 0) {
    throw new Error(`apt has no installable version of ${missing.join(", ")} (check sources.list)`);
  }
  return Object.fromEntries(pkgs.map((p) => [p, found.get(p)!]));
}

/**
 * The versioned kernel package behind Debian's `linux-image-cloud-amd64`
 * meta-package (e.g. `linux-image-6.1.0-57-cloud-amd64`), so both guests
 * pin the same kernel build.
 */
export async function cloudKernelPackage(): Promise<string> {
  await candidateVersions(["linux-image-cloud-amd64"]);
  const out = await run("apt-cache", ["depends", "linux-image-cloud-amd64"], { env });
  const dep = out.match(/Depends: (linux-image-\S+-cloud-amd64)/);
  if (!dep) throw new Error(`cannot tell which kernel linux-image-cloud-amd64 pulls in:\n${out}`);
  return dep[1];
}

/** A guest's packages, as apt resolves them now. */
export interface ResolvedPackages {
  /** The versioned cloud kernel package (see {@link cloudKernelPackage}). */
  kernelPackage: string;
  /** Candidate version of the kernel package and of every other package asked for. */
  versions: Record<string, string>;
}

const listsDir = "/var/lib/apt/lists";

/** Names, sizes and mtimes of apt's lists: apt's answers stay the same while these do. */
async function aptListsState(): Promise<string> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(listsDir)) {
    if (!entry.isFile) continue;
    const stat = await Deno.stat(`${listsDir}/${entry.name}`);
    files.push(`${entry.name} ${stat.size} ${stat.mtime?.getTime()}`);
  }
  return files.sort().join("\n");
}

/**
 * The cloud kernel and `pkgs` with their candidate versions. Each apt-cache
 * call re-reads apt's lists (a second or more here, where apt keeps no binary
 * cache), so answers are remembered under `cacheRoot` for as long as the
 * lists are unchanged.
 */
export async function resolveGuestPackages(
  pkgs: string[],
  cacheRoot: string,
): Promise<ResolvedPackages> {
  const memoDir = `${cacheRoot}/apt-answers`;
  const memoFor = async () =>
    `${memoDir}/${(await sha256Hex(JSON.stringify({ pkgs, lists: await aptListsState() })))}.json`;
  try {
    return JSON.parse(await Deno.readTextFile(await memoFor()));
  } catch { /* not answered yet for these lists */ }
  const kernelPackage = await cloudKernelPackage();
  const resolved = { kernelPackage, versions: await candidateVersions([kernelPackage, ...pkgs]) };
  // Keyed after resolving: resolving may have refreshed the lists.
  const memo = await memoFor();
  await Deno.mkdir(memoDir, { recursive: true });
  await Deno.writeTextFile(`${memo}.${Deno.pid}`, JSON.stringify(resolved));
  await Deno.rename(`${memo}.${Deno.pid}`, memo);
  return resolved;
}

/** Downloads exactly these package versions into `dir`; returns the .deb paths by package. */
export async function downloadPackages(
  versions: Record<string, string>,
  dir: string,
): Promise<Record<string, string>> {
  const specs = Object.entries(versions).map(([p, v]) => `${p}=${v}`);
  try {
    await run("apt-get", ["download", "-qq", ...aptOptions, ...specs], { cwd: dir, env });
  } catch (err) {
    throw new StaleAptListsError(String(err));
  }
  const debs: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    const name = entry.name.match(/^([^_]+)_.*\.deb$/)?.[1];
    if (name && name in versions) debs[name] = `${dir}/${entry.name}`;
  }
  const missing = Object.keys(versions).filter((p) => !(p in debs));
  if (missing.length > 0) throw new Error(`apt-get download fetched no .deb for ${missing}`);
  return debs;
}

/** Unpacks a .deb's files (not its scripts) under `dir`. */
export async function unpackDeb(deb: string, dir: string): Promise<void> {
  await run("dpkg-deb", ["-x", deb, dir]);
}

/**
 * apt could not fetch a version its lists name: the mirror moved on (a
 * security update replaced the package) since the lists were downloaded.
 */
export class StaleAptListsError extends Error {}

/**
 * Runs `attempt`; if it fails with {@link StaleAptListsError}, refreshes
 * apt's lists and runs it once more (with versions read from the new lists).
 */
export async function retryWithFreshAptLists<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (err) {
    if (!(err instanceof StaleAptListsError)) throw err;
    console.error(`refreshing apt's lists and retrying: ${err.message.split("\n")[0]}`);
    await run("apt-get", ["update", "-qq", ...aptOptions], { env });
    return await attempt();
  }
}
