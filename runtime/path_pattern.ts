/**
 * Path patterns: Go's `filepath.Glob` syntax (`*`, `?`, `[...]` within one
 * segment, `\` escapes) as regular expressions, plus placeholders — text the
 * runtime could not know when it rendered a path (build data such as the
 * instance id) — that match any run of characters within one segment.
 */

/** Marks "any text within one path segment" inside a rendered path. */
export function placeholder(n: number): string {
  return `\u0000${n}\u0000`;
}

// A NUL never occurs in a path, so a placeholder cannot collide with real text.
const PLACEHOLDER = new RegExp("\u0000\\d+\u0000");

/** One path segment of a Go glob as regular-expression source (no anchors). */
export function globSegmentSource(segment: string): string {
  let re = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\" && i + 1 < segment.length) re += escapeRegExp(segment[++i]);
    else if (c === "[") {
      const end = segment.indexOf("]", i + 2);
      if (end === -1) {
        re += "\\[";
        continue;
      }
      // Go negates a class with "^" only ("!" is an ordinary character there).
      const body = segment.slice(i + 1, end);
      const negate = body.startsWith("^");
      const chars = (negate ? body.slice(1) : body).replace(/\\(?!.)|[\]\[]/g, "\\$&");
      re += `[${negate ? "^" : ""}${chars}]`;
      i = end;
    } else re += escapeRegExp(c);
  }
  return re;
}

/**
 * A matcher for whole absolute paths: `pattern` is a path, literal or (with
 * `glob`) a Go glob, in which placeholders match any text without "/".
 */
export function pathMatcher(pattern: string, glob: boolean): RegExp {
  const source = pattern.split("/").map((segment) =>
    segment.split(PLACEHOLDER).map((part) => glob ? globSegmentSource(part) : escapeRegExp(part))
      .join("[^/]*")
  ).join("/");
  return new RegExp(`^${source}$`);
}

/** `text` with every regular-expression metacharacter escaped. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
