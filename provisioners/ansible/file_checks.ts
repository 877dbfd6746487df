/**
 * The path checks both Ansible provisioners make when a template is
 * prepared, worded as Packer 1.6.6 words them (`playbook_file: x is invalid:
 * stat x: no such file or directory`), so a user moving from Packer reads
 * the same complaint. Deno's own error text ("No such file or directory (os
 * error 2)") is translated to Go's.
 */

/** Go's wording of the errno behind a failed stat. */
function goStatError(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "no such file or directory";
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.NotADirectory) return "not a directory";
  return err instanceof Error ? err.message : String(err);
}

/** What `stat` says of `path`: its info, or Go's sentence for why it failed. */
function statOf(path: string): Deno.FileInfo | string {
  try {
    return Deno.statSync(path);
  } catch (err) {
    return `stat ${path}: ${goStatError(err)}`;
  }
}

/** Reports `key` unless `path` names an existing regular file (or anything, with `anyKind`). */
export function checkFile(
  key: string,
  path: string,
  report: (key: string, message: string) => void,
  anyKind = false,
): void {
  const info = statOf(path);
  if (typeof info === "string") return report(key, `${path} is invalid: ${info}`);
  if (!anyKind && info.isDirectory) report(key, `${path} must point to a file`);
}

/** Reports `key` unless `path` names an existing directory. */
export function checkDirectory(
  key: string,
  path: string,
  report: (key: string, message: string) => void,
): void {
  const info = statOf(path);
  if (typeof info === "string") return report(key, `${path} is invalid: ${info}`);
  if (!info.isDirectory) report(key, `${path} must point to a directory`);
}

/** A non-empty string option, or undefined. */
export function stringOption(config: Record<string, unknown>, key: string): string | undefined {
  const v = config[key];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** A string-list option (absent: empty). */
export function listOption(config: Record<string, unknown>, key: string): string[] {
  const v = config[key];
  return Array.isArray(v) ? v.map(String) : [];
}
