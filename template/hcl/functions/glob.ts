/**
 * Glob patterns as Go's doublestar matches them for `fileset`: `*` and `?`
 * within one path segment, `**` across any number of directories, `[...]`
 * classes (`[!...]` or `[^...]` negated), `{a,b}` alternatives, `\` escaping.
 */
import { ValueError } from "../value.ts";

const special = /[\\^$.*+?()[\]{}|/]/g;

/** Translates a pattern from `i` up to an unnested `stop` character; returns [regex source, end]. */
function translate(p: string, i: number, stop: string): [string, number] {
  let out = "";
  while (i < p.length && !stop.includes(p[i])) {
    const c = p[i];
    if (c === "*" && p[i + 1] === "*") {
      const atStart = i === 0 || p[i - 1] === "/";
      const slashAfter = p[i + 2] === "/";
      const atEnd = i + 2 === p.length;
      if (atStart && slashAfter) {
        out += "(?:[^/]*/)*";
        i += 3;
      } else if (atStart && atEnd) {
        out += ".*";
        i += 2;
      } else {
        // "**" inside a segment is just "*".
        out += "[^/]*";
        i += 2;
      }
    } else if (c === "*") {
      (out += "[^/]*", i++);
    } else if (c === "?") {
      (out += "[^/]", i++);
    } else if (c === "\\") {
      if (i + 1 >= p.length) {
        throw new ValueError(`invalid pattern ${JSON.stringify(p)}: trailing backslash`, 1);
      }
      (out += p[i + 1].replace(special, "\\$&"), i += 2);
    } else if (c === "[") {
      const end = p.indexOf("]", i + 2);
      if (end < 0) throw new ValueError(`invalid pattern ${JSON.stringify(p)}: unclosed [`, 1);
      let body = p.slice(i + 1, end);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      out += `[${negate ? "^/" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = end + 1;
    } else if (c === "{") {
      const alts: string[] = [];
      let j = i + 1;
      for (;;) {
        const [alt, k] = translate(p, j, ",}");
        alts.push(alt);
        if (k >= p.length) {
          throw new ValueError(`invalid pattern ${JSON.stringify(p)}: unclosed {`, 1);
        }
        j = k + 1;
        if (p[k] === "}") break;
      }
      out += `(?:${alts.join("|")})`;
      i = j;
    } else {
      (out += c.replace(special, "\\$&"), i++);
    }
  }
  return [out, i];
}

/** A matcher for slash-separated relative paths. */
export function globMatcher(pattern: string): (path: string) => boolean {
  const [source] = translate(pattern, 0, "");
  const re = new RegExp(`^${source}$`, "u");
  return (path) => re.test(path);
}

/**
 * Files (not directories) under `root` whose slash-separated path relative
 * to it matches `pattern`, sorted. A missing root matches nothing.
 */
export function globFiles(root: string, pattern: string): string[] {
  const match = globMatcher(pattern);
  const found: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string, rel: string) => {
    let real: string;
    try {
      real = Deno.realPathSync(dir);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      const relPath = rel === "" ? entry.name : `${rel}/${entry.name}`;
      let isDir = entry.isDirectory, isFile = entry.isFile;
      if (entry.isSymlink) {
        try {
          const st = Deno.statSync(path);
          [isDir, isFile] = [st.isDirectory, st.isFile];
        } catch {
          continue;
        }
      }
      if (isDir) walk(path, relPath);
      else if (isFile && match(relPath)) found.push(relPath);
    }
  };
  walk(root, "");
  return found.sort();
}
