/**
 * The guest cache: each guest is built once into a directory named after a
 * digest of its recipe (the source files that build it, the package versions
 * it is made of), under an exclusive file lock, in a scratch directory renamed
 * into place when complete. Concurrent processes (the demo, test processes)
 * wait for the one building; nobody ever sees a half-built guest. A cache root
 * holds `guests/` and `apt-answers/`; the demo's is {@link userCacheRoot}, the
 * tests keep their own.
 */
import { exists } from "../runtime/fs.ts";

/** The user's kiln cache: `$XDG_CACHE_HOME/kiln`, else `~/.cache/kiln`. */
export function userCacheRoot(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/kiln`;
  const home = Deno.env.get("HOME");
  if (!home) throw new Error("neither XDG_CACHE_HOME nor HOME is set: no place for kiln's cache");
  return `${home}/.cache/kiln`;
}

/** The repository root: recipe files are keyed by their path below it. */
const repositoryRoot = new URL("../", import.meta.url);

/** Hex SHA-256 of `text`. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every file below `dir` (a directory URL ending in `/`), in a stable order. */
export function filesUnder(dir: URL): URL[] {
  const files: URL[] = [];
  const walk = (at: URL) => {
    const entries = [...Deno.readDirSync(at)].sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (entry.isDirectory) walk(new URL(`${entry.name}/`, at));
      else files.push(new URL(entry.name, at));
    }
  };
  walk(dir);
  return files;
}

/**
 * SHA-256 of each recipe file, keyed by its path below `base` (default: the
 * repository root), so editing a recipe (or adding a file to a synced tree)
 * rebuilds the guest.
 */
export async function recipeFileDigests(
  files: URL[],
  base = repositoryRoot,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of files) {
    if (!file.pathname.startsWith(base.pathname)) {
      throw new Error(`recipe file ${file.pathname} is not below ${base.pathname}`);
    }
    out[decodeURIComponent(file.pathname.slice(base.pathname.length))] = await sha256Hex(
      await Deno.readFile(file),
    );
  }
  return out;
}

/** What {@link buildOnce} hands back. */
export interface CachedBuild {
  /** The complete guest directory. */
  dir: string;
  /** False when this call built it. */
  fromCache: boolean;
}

/**
 * Returns `<cacheRoot>/guests/<kind>-<digest of key>`, running
 * `build(scratchDir)` first when it does not exist yet. `build` fills the
 * scratch directory; it becomes the cache entry only if `build` resolves.
 */
export async function buildOnce(
  cacheRoot: string,
  kind: string,
  key: unknown,
  build: (scratchDir: string) => Promise<void>,
): Promise<CachedBuild> {
  const guests = `${cacheRoot}/guests`;
  const name = `${kind}-${(await sha256Hex(JSON.stringify(key))).slice(0, 16)}`;
  const dir = `${guests}/${name}`;
  if (await exists(dir)) return { dir, fromCache: true };
  await Deno.mkdir(guests, { recursive: true });
  const lockFile = await Deno.open(`${dir}.lock`, { create: true, write: true });
  try {
    await lockFile.lock(true);
    if (await exists(dir)) return { dir, fromCache: true };
    // Whatever scratch directory is left holds a build that died: only the lock holder builds.
    for await (const entry of Deno.readDir(guests)) {
      if (entry.name.startsWith(`.${name}.partial-`)) {
        await Deno.remove(`${guests}/${entry.name}`, { recursive: true });
      }
    }
    const scratch = `${guests}/.${name}.partial-${Deno.pid}`;
    await Deno.mkdir(scratch);
    try {
      await build(scratch);
      await Deno.writeTextFile(`${scratch}/key.json`, JSON.stringify(key, null, 2) + "\n");
      await Deno.rename(scratch, dir);
    } catch (err) {
      await Deno.remove(scratch, { recursive: true }).catch(() => {});
      throw err;
    }
    return { dir, fromCache: false };
  } finally {
    lockFile.close();
  }
}
