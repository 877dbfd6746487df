/**
 * Local directory trees for directory uploads, with rsync's trailing-slash
 * rule applied: `dir` uploads the directory itself, `dir/` its contents.
 * Symlinks are followed, so they arrive as regular files (Packer's rule for
 * every communicator but docker).
 */

/** One local file or directory to send. */
export interface LocalEntry {
  name: string;
  path: string;
  kind: "file" | "dir";
  mode: number;
  size: number;
  children?: LocalEntry[];
}

function excluded(rel: string, exclude: string[]): boolean {
  return exclude.some((pattern) => rel === pattern || rel.startsWith(`${pattern}/`));
}

async function walk(path: string, rel: string, exclude: string[]): Promise<LocalEntry[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  names.sort();
  const out: LocalEntry[] = [];
  for (const name of names) {
    const child = `${path}/${name}`;
    const childRel = rel ? `${rel}/${name}` : name;
    if (excluded(childRel, exclude)) continue;
    const info = await Deno.stat(child); // follows symlinks
    if (info.isDirectory) {
      const children = await walk(child, childRel, exclude);
      out.push({ name, path: child, kind: "dir", mode: info.mode ?? 0o755, size: 0, children });
    } else {
      out.push({ name, path: child, kind: "file", mode: info.mode ?? 0o644, size: info.size });
    }
  }
  return out;
}

/** The entries to create in the destination for source directory `src`. */
export async function listLocalTree(src: string, exclude: string[] = []): Promise<LocalEntry[]> {
  const info = await Deno.stat(src);
  if (!info.isDirectory) throw new Error(`${src} is not a directory`);
  const root = src.replace(/\/+$/, "") || "/";
  const entries = await walk(root, "", exclude);
  if (src.endsWith("/")) return entries;
  const name = root.slice(root.lastIndexOf("/") + 1);
  return [{ name, path: root, kind: "dir", mode: info.mode ?? 0o755, size: 0, children: entries }];
}

/** Every file in `entries`, depth first, with its path relative to the destination. */
export function flattenTree(
  entries: LocalEntry[],
  prefix = "",
): { rel: string; entry: LocalEntry }[] {
  return entries.flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.kind === "dir"
      ? [{ rel, entry }, ...flattenTree(entry.children ?? [], rel)]
      : [{ rel, entry }];
  });
}
