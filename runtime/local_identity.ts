/**
 * Provenance for local paths: what a run records about a file or directory
 * it made, and the only deletion the runtime performs on one — a deletion
 * that first shows, by re-reading that identity (lstat, never following a
 * symlink), that the thing at the path is still the one this run made.
 * Anything else is left alone, with the reason.
 */

/** What an object at a path is, as far as deciding "is it still ours?" needs. */
export interface LocalIdentity {
  type: "file" | "dir" | "symlink" | "other";
  dev: number;
  ino: number;
  size: number;
  /** Milliseconds since the epoch; null where the file system keeps none. */
  mtimeMs: number | null;
  birthMs: number | null;
}

/**
 * What the run can show about a ledger path: the identity captured right
 * after it made it, or — for a write-ahead claim that never got that far
 * (the process died) — when it claimed the then-absent path.
 */
export interface OwnedPath {
  identity?: LocalIdentity;
  /** ISO time of a write-ahead claim made while the path was absent. */
  claimedAt?: string;
  /** For a directory: the run created it (then it goes whole, recursively). */
  createdByRun?: boolean;
  /** For a directory the run did not create: its own files inside it, the only ones it deletes. */
  files?: { path: string; identity: LocalIdentity }[];
}

/** How a removal went. */
export type Removal =
  | { outcome: "deleted" }
  | { outcome: "absent" }
  | { outcome: "refused"; reason: string };

/**
 * File system clocks are coarse (a kernel tick behind the wall clock), so a
 * file born right after a claim may read as born a few milliseconds before.
 */
const CLOCK_SLACK_MS = 100;

/** The identity of whatever is at `path` (not following a final symlink); undefined if nothing. */
export async function identityOf(path: string): Promise<LocalIdentity | undefined> {
  try {
    return fromInfo(await Deno.lstat(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw err;
  }
}

/**
 * identityOf, synchronously: reading identities and logging them with no
 * await between means no other build of the process can act in the gap.
 */
export function identityOfSync(path: string): LocalIdentity | undefined {
  try {
    return fromInfo(Deno.lstatSync(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw err;
  }
}

function fromInfo(info: Deno.FileInfo): LocalIdentity {
  return {
    type: info.isSymlink ? "symlink" : info.isDirectory ? "dir" : info.isFile ? "file" : "other",
    dev: info.dev,
    ino: info.ino ?? 0,
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? null,
    birthMs: info.birthtime?.getTime() ?? null,
  };
}

/**
 * The same object: type, device and inode, and birth time where both know
 * it (an inode number is reused once a file is deleted).
 */
export function sameObject(a: LocalIdentity, b: LocalIdentity): boolean {
  return a.type === b.type && a.dev === b.dev && a.ino === b.ino &&
    (a.birthMs === null || b.birthMs === null || a.birthMs === b.birthMs);
}

/**
 * The same object, unchanged: for anything but a directory also the same
 * size and modification time. A directory's own mtime moves whenever an
 * entry inside it comes or goes, so it is not part of its identity.
 */
export function sameIdentity(recorded: LocalIdentity, current: LocalIdentity): boolean {
  if (!sameObject(recorded, current)) return false;
  if (current.type === "dir") return true;
  return recorded.size === current.size && recorded.mtimeMs === current.mtimeMs;
}

/** An identity read back from a log record; undefined unless every field has the right type. */
export function parseIdentity(value: unknown): LocalIdentity | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const num = (x: unknown) => typeof x === "number" && Number.isFinite(x);
  const numOrNull = (x: unknown) => x === null || num(x);
  if (!["file", "dir", "symlink", "other"].includes(v.type as string)) return undefined;
  if (!num(v.dev) || !num(v.ino) || !num(v.size)) return undefined;
  if (!numOrNull(v.mtimeMs) || !numOrNull(v.birthMs)) return undefined;
  return {
    type: v.type as LocalIdentity["type"],
    dev: v.dev as number,
    ino: v.ino as number,
    size: v.size as number,
    mtimeMs: v.mtimeMs as number | null,
    birthMs: v.birthMs as number | null,
  };
}

/** Why the object at a path is not shown to be this run's, or undefined when it is. */
export function provenanceProblem(owned: OwnedPath, current: LocalIdentity): string | undefined {
  if (owned.identity) {
    if (sameIdentity(owned.identity, current)) return undefined;
    if (owned.identity.type !== current.type) {
      return `it is now a ${describeType(current.type)}, not the ${
        describeType(owned.identity.type)
      } this run made`;
    }
    return "it changed since this run created it";
  }
  if (owned.claimedAt === undefined) return "the ledger records no identity for it";
  // A write-ahead claim: the path was absent then, and the process died
  // before it could record what it wrote.
  if (current.type !== "file") {
    return `it is a ${describeType(current.type)}, not the file this run was about to write`;
  }
  if (current.birthMs === null) {
    return "its file system keeps no creation time, so it cannot be shown to be this run's";
  }
  const claimed = Date.parse(owned.claimedAt);
  if (!Number.isFinite(claimed) || current.birthMs < claimed - CLOCK_SLACK_MS) {
    return "it existed before this run claimed the path";
  }
  return undefined;
}

/**
 * Deletes `path` only if it is provably this run's: a file or link when its
 * identity matches, a directory recursively when the run created it, else
 * only the run's own recorded files inside it. Between the check and the
 * unlink lies only the time of one system call; the check never follows a
 * symlink, and neither does the deletion (a link is removed, not its target).
 */
export async function removeOwned(path: string, owned: OwnedPath): Promise<Removal> {
  const current = await identityOf(path);
  if (!current) return { outcome: "absent" };
  const problem = provenanceProblem(owned, current);
  if (problem) return { outcome: "refused", reason: problem };
  if (current.type !== "dir") {
    return await unlink(() => Deno.remove(path));
  }
  if (owned.createdByRun) {
    return await unlink(() => Deno.remove(path, { recursive: true }));
  }
  const refused: string[] = [];
  for (const file of owned.files ?? []) {
    if (!isInside(file.path, path)) {
      refused.push(`${file.path} (not inside ${path})`);
      continue;
    }
    // Recorded entries were born during the run: a directory among them is the run's whole.
    const inner = await removeOwned(file.path, {
      identity: file.identity,
      createdByRun: file.identity.type === "dir",
    });
    if (inner.outcome === "refused") refused.push(`${file.path} (${inner.reason})`);
  }
  if (refused.length > 0) {
    return {
      outcome: "refused",
      reason: `the directory existed before this run, and of the files this run made in it ${
        refused.join(", ")
      } could not be deleted`,
    };
  }
  return { outcome: "deleted" };
}

async function unlink(remove: () => Promise<void>): Promise<Removal> {
  try {
    await remove();
    return { outcome: "deleted" };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { outcome: "absent" };
    throw err;
  }
}

/** Whether `child` lies strictly inside directory `dir` (both absolute). */
export function isInside(child: string, dir: string): boolean {
  const base = dir.endsWith("/") ? dir : `${dir}/`;
  return child.startsWith(base) && !child.slice(base.length).split("/").includes("..");
}

function describeType(type: LocalIdentity["type"]): string {
  return type === "dir" ? "directory" : type === "symlink" ? "symbolic link" : type;
}
