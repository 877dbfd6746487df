/**
 * Which files make up an HCL configuration, as Packer reads them: a file
 * given by name is the whole configuration; a directory contributes every
 * `*.pkr.hcl` and `*.pkr.json` in it (not its subdirectories) plus its
 * `*.auto.pkrvars.hcl` / `*.auto.pkrvars.json`, in lexical order.
 */
import { basename, dirname, join, resolve } from "node:path";

/** True when `path` names an HCL configuration (a `.pkr.hcl`/`.pkr.json` file or a directory). */
export async function isHclConfig(path: string): Promise<boolean> {
  if (/\.pkr\.(hcl|json)$/.test(path)) return true;
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** The files of a configuration. */
export interface ConfigFiles {
  /** Absolute directory of the configuration (`path.root`). */
  dir: string;
  /** Configuration files, absolute, in lexical order. */
  config: string[];
  /** Auto-loaded variable files, absolute, in lexical order. */
  autoVars: string[];
}

/** Lists a configuration's files; a directory without any is an error for the caller to report. */
export async function configFiles(path: string): Promise<ConfigFiles> {
  const abs = resolve(path);
  const info = await Deno.stat(abs);
  if (!info.isDirectory) return { dir: dirname(abs), config: [abs], autoVars: [] };
  const names: string[] = [];
  for await (const e of Deno.readDir(abs)) if (e.isFile || e.isSymlink) names.push(e.name);
  names.sort();
  const autoVars = names.filter((n) => /\.auto\.pkrvars\.(hcl|json)$/.test(n));
  const config = names.filter((n) => /\.pkr\.(hcl|json)$/.test(n) && !autoVars.includes(n));
  return {
    dir: abs,
    config: config.map((n) => join(abs, n)),
    autoVars: autoVars.map((n) => join(abs, n)),
  };
}

/** How a file is named in diagnostics: relative to the working directory when inside it. */
export function displayName(file: string): string {
  const cwd = Deno.cwd();
  return file.startsWith(cwd + "/")
    ? file.slice(cwd.length + 1)
    : file === cwd
    ? basename(file)
    : file;
}
