/**
 * Inline commands become one script file, as Packer writes them: the
 * shebang line, then each command on its own line, so `cd` in one command
 * holds for the next.
 */
import { join } from "node:path";
import { tmpdir } from "node:os";

/** Packer's default `inline_shebang`. */
export const DEFAULT_INLINE_SHEBANG = "/bin/sh -e";

/** The `inline_shebang` to use: Packer treats an empty one as unset. */
export function inlineShebang(value: unknown): string {
  return typeof value === "string" && value !== "" ? value : DEFAULT_INLINE_SHEBANG;
}

/** The script text for `inline` commands (an empty shebang writes no `#!` line). */
export function inlineScript(lines: readonly string[], shebang: string): string {
  const head = shebang === "" ? "" : `#!${shebang}\n`;
  return head + lines.map((line) => `${line}\n`).join("");
}

/** Where and how a temporary script is written. */
export interface TempScriptOptions {
  /** File name prefix (Packer: "packer-shell"). */
  prefix?: string;
  /** `tempfile_extension`, with or without its dot ("sh" and ".sh" both give `x.sh`). */
  extension?: string;
  /** Directory; default the system temp dir (the run's own when the CLI drives the run). */
  dir?: string;
  /** Permission bits; default 0700. A file other programs only read (an env var file) wants 0600. */
  mode?: number;
}

/**
 * Writes `content` to a new file with an unguessable name, readable by its
 * owner only (0700 unless `mode` says otherwise), and returns its absolute
 * path. The caller removes it.
 */
export async function writeTempScript(
  content: string,
  options: TempScriptOptions = {},
): Promise<string> {
  const dir = options.dir ?? tmpdir();
  const ext = options.extension ? `.${options.extension.replace(/^\./, "")}` : "";
  const random = crypto.getRandomValues(new Uint32Array(1))[0];
  const path = join(dir, `${options.prefix ?? "packer-shell"}${random}${ext}`);
  const mode = options.mode ?? 0o700;
  await Deno.writeTextFile(path, content, { createNew: true, mode });
  // createNew honours the umask; a script must be executable by its owner.
  await Deno.chmod(path, mode);
  return path;
}
