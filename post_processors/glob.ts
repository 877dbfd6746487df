/**
 * Go's `filepath.Glob` for artifice: `*`, `?` and `[...]` within one path
 * segment, matches sorted per directory, a pattern without meta characters
 * returned as is when the file exists, nothing when nothing matches.
 */
import { join } from "node:path";
import { globSegmentSource } from "../runtime/path_pattern.ts";

const META = /[*?[\\]/;

/** Expands `pattern` to the existing paths it matches. */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!META.test(pattern)) return await exists(pattern) ? [pattern] : [];
  const absolute = pattern.startsWith("/");
  const segments = pattern.split("/").filter((s, i) => s !== "" || i === 0);
  let bases = [absolute ? "/" : ""];
  for (const [i, segment] of segments.entries()) {
    if (i === 0 && absolute) continue;
    const next: string[] = [];
    for (const base of bases) {
      if (!META.test(segment)) {
        const path = base === "" ? segment : join(base, segment);
        if (await exists(path)) next.push(path);
        continue;
      }
      const re = segmentRegExp(segment);
      const names: string[] = [];
      try {
        for await (const entry of Deno.readDir(base === "" ? "." : base)) {
          if (re.test(entry.name)) names.push(entry.name);
        }
      } catch {
        continue; // Not a directory, or unreadable: no matches, as Go.
      }
      names.sort();
      for (const name of names) next.push(base === "" ? name : join(base, name));
    }
    bases = next;
  }
  return bases;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** One path segment of a Go glob as a RegExp. */
function segmentRegExp(segment: string): RegExp {
  return new RegExp(`^${globSegmentSource(segment)}$`);
}
