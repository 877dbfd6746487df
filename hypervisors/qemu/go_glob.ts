/**
 * Go's filepath.Glob, which Packer uses for `cd_files`, `floppy_files` and
 * `floppy_dirs`: `*` and `?` within one path element (dot files included),
 * `[a-z]` and `[^a-z]` classes, `\` escapes; no `**`. Matches come back
 * sorted per directory and spelled like the pattern (relative stays relative).
 */

/** Packer's test for "this entry is a pattern": any of `*`, `?`, `[`. */
export function isGlobPattern(path: string): boolean {
  return /[*?[]/.test(path);
}

/** A pattern Go rejects (filepath.ErrBadPattern). */
export class BadPatternError extends Error {
  constructor(pattern: string) {
    super(`syntax error in pattern ${JSON.stringify(pattern)}`);
    this.name = "BadPatternError";
  }
}

/** The paths matching `pattern`, relative patterns resolved against `cwd`. */
export async function goGlob(pattern: string, cwd: string): Promise<string[]> {
  const absolute = pattern.startsWith("/");
  const parts = pattern.split("/").filter((p, i) => p !== "" || i === 0);
  let bases: string[] = [absolute ? "/" : ""];
  for (const [i, part] of parts.entries()) {
    if (i === 0 && absolute) continue;
    const next: string[] = [];
    if (!isGlobPattern(part)) {
      const literal = unescape(part);
      for (const base of bases) {
        const path = join(base, literal);
        if (i === parts.length - 1) {
          if (await Deno.lstat(resolve(path, cwd)).then(() => true, () => false)) next.push(path);
        } else next.push(path);
      }
    } else {
      const matcher = compile(part, pattern);
      for (const base of bases) {
        const names: string[] = [];
        try {
          for await (const entry of Deno.readDir(resolve(base || ".", cwd))) {
            if (matcher.test(entry.name)) names.push(entry.name);
          }
        } catch {
          continue;
        }
        for (const name of names.sort()) next.push(join(base, name));
      }
    }
    bases = next;
  }
  return bases.filter((b) => b !== "" && b !== "/");
}

function join(base: string, name: string): string {
  if (base === "") return name;
  return base.endsWith("/") ? base + name : `${base}/${name}`;
}

function resolve(path: string, cwd: string): string {
  return path.startsWith("/") ? path : `${cwd}/${path}`;
}

function unescape(part: string): string {
  return part.replace(/\\(.)/g, "$1");
}

function compile(part: string, pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\") {
      if (i + 1 >= part.length) throw new BadPatternError(pattern);
      re += escapeRegex(part[++i]);
    } else if (c === "[") {
      let j = i + 1;
      let cls = "";
      if (part[j] === "^") {
        cls += "^";
        j++;
      }
      let first = true;
      while (j < part.length && (part[j] !== "]" || first)) {
        if (part[j] === "]" && first) throw new BadPatternError(pattern);
        let lo = part[j];
        if (lo === "\\") lo = part[++j] ?? "";
        if (lo === "" || lo === "/") throw new BadPatternError(pattern);
        cls += escapeClass(lo);
        if (part[j + 1] === "-" && part[j + 2] !== undefined && part[j + 2] !== "]") {
          let hi = part[j + 2];
          j += 2;
          if (hi === "\\") hi = part[++j] ?? "";
          if (hi === "" || hi < lo) throw new BadPatternError(pattern);
          cls += "-" + escapeClass(hi);
        }
        j++;
        first = false;
      }
      if (j >= part.length) throw new BadPatternError(pattern);
      re += `[${cls}]`;
      i = j;
    } else re += escapeRegex(c);
  }
  return new RegExp(`^${re}$`, "su");
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function escapeClass(c: string): string {
  return c.replace(/[\]\\^-]/g, "\\$&");
}
