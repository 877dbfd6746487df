/** Temp-dir helpers for the template tests (every test cleans up what it writes). */
import { withTempDir as inTempDir } from "../support/temp_dir.ts";

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  return inTempDir(fn, "kiln-template-test-");
}

/** Writes `value` as JSON (or the string as-is) to `dir/name` and returns the path. */
export async function writeFile(dir: string, name: string, value: unknown): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(
    path,
    typeof value === "string" ? value : JSON.stringify(value, null, 2),
  );
  return path;
}
