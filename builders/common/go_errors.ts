/**
 * Go's wording for file-system and text errors, so that messages about a
 * template's files read as Packer's ("stat x: no such file or directory").
 */

/** The errno text Go prints for a Deno file-system error. */
export function errnoText(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "no such file or directory";
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.NotADirectory) return "not a directory";
  if (err instanceof Deno.errors.IsADirectory) return "is a directory";
  if (err instanceof Deno.errors.FilesystemLoop) return "too many levels of symbolic links";
  return err instanceof Error ? err.message : String(err);
}

/** `os.Stat(path)`'s error as Go prints it, or undefined when the path is there. */
export function statProblem(path: string): string | undefined {
  try {
    Deno.statSync(path);
    return undefined;
  } catch (err) {
    return `stat ${path}: ${errnoText(err)}`;
  }
}

/** Go's `%q` of a string (enough for messages: quotes, backslashes, controls). */
export function goQuote(text: string): string {
  return JSON.stringify(text).replace(/\\u00([0-9a-f]{2})/g, "\\x$1");
}

/** Whether a path is a glob pattern to Packer (`strings.ContainsAny(path, "*?[")`). */
export function isGlob(path: string): boolean {
  return /[*?[]/.test(path);
}
