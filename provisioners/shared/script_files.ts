/** `script` and `scripts`: local files a shell-family provisioner runs. */

/**
 * Reports every `script`/`scripts` path that cannot be stat'ed, in Packer's
 * words (`Bad script 'p': stat p: no such file or directory`). Like Packer,
 * only existence is checked here: a path that cannot be read fails when it runs.
 */
export function checkScriptFiles(
  config: Record<string, unknown>,
  report: (key: string, message: string) => void,
): void {
  const { script, scripts } = config;
  const paths = [
    ...(typeof script === "string" && script !== "" ? [["script", script]] : []),
    ...(Array.isArray(scripts) ? scripts.map((s) => ["scripts", String(s)]) : []),
  ];
  for (const [key, path] of paths) {
    try {
      Deno.statSync(path);
    } catch (err) {
      const why = err instanceof Deno.errors.NotFound
        ? "no such file or directory"
        : err instanceof Error
        ? err.message
        : String(err);
      report(key, `Bad script '${path}': stat ${path}: ${why}`);
    }
  }
}
