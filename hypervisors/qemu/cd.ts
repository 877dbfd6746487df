/**
 * `cd_files` / `cd_content` / `cd_label`: an ISO 9660 image with Rock Ridge
 * and Joliet, made with xorriso exactly as Packer runs it
 * (`xorriso -as genisoimage -rock -joliet -volid LABEL -output ISO DIR`).
 *
 * Layout as Packer's StepCreateCD: a file goes to the root under its own
 * name; a directory goes to the root as itself with everything under it,
 * unless written with a trailing slash, in which case its contents go to
 * the root; then each `cd_content` path is written, replacing a file of the
 * same path. The cloud-init NoCloud seed is the common case:
 * `cd_label: "cidata"` with `user-data` and `meta-data`.
 */
import { goGlob, isGlobPattern } from "./go_glob.ts";

/** What goes on the CD. */
export interface CdSpec {
  /** `cd_files` as written in the template: paths or globs, relative to `cwd`. */
  files?: readonly string[];
  /** `cd_content`: path on the CD → file content. */
  content?: Readonly<Record<string, string>>;
  /** `cd_label`; Packer's default is "packer". */
  label?: string;
}

/** Packer's default volume label. */
export const defaultCdLabel = "packer";

/**
 * `cd_files` expanded as Packer does when it validates the template: a glob
 * becomes its matches (none is fine), a plain path must exist.
 */
export async function expandCdFiles(files: readonly string[], cwd: string): Promise<string[]> {
  const expanded: string[] = [];
  for (const [i, path] of files.entries()) {
    if (isGlobPattern(path)) {
      try {
        expanded.push(...await goGlob(path, cwd));
      } catch (e) {
        throw new Error(
          `cd_files[${i}]: bad CD file ${JSON.stringify(path)}: ${(e as Error).message}`,
        );
      }
    } else {
      await Deno.stat(absolute(path, cwd)).catch(() => {
        throw new Error(
          `cd_files[${i}]: bad CD file ${JSON.stringify(path)}: no such file or directory`,
        );
      });
      expanded.push(path);
    }
  }
  return expanded;
}

/**
 * Lays out the CD in `staging` (which must be empty or absent) and writes
 * the ISO to `out`. Returns the paths on the CD, sorted.
 */
export async function makeCd(
  spec: CdSpec,
  options: { out: string; staging: string; cwd: string; xorriso?: string },
): Promise<string[]> {
  const { staging, cwd } = options;
  await Deno.mkdir(staging, { recursive: true });
  for (const path of await expandCdFiles(spec.files ?? [], cwd)) {
    await addPath(absolute(path, cwd), staging, path.endsWith("/"));
  }
  for (const [path, text] of Object.entries(spec.content ?? {})) {
    const target = contentTarget(staging, path);
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(target, text);
  }
  const label = spec.label || defaultCdLabel;
  const args = [
    "-as",
    "genisoimage",
    "-rock",
    "-joliet",
    "-volid",
    label,
    "-output",
    options.out,
    staging,
  ];
  const result = await (async () =>
    await new Deno.Command(options.xorriso ?? "xorriso", {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output())().catch((e) => {
      throw e instanceof Deno.errors.NotFound
        ? new Error(
          "cd_files/cd_content need xorriso, which is not installed (Debian: apt-get install xorriso)",
        )
        : e;
    });
  if (!result.success) {
    const stderr = new TextDecoder().decode(result.stderr).trim().split("\n").slice(-5).join("\n");
    throw new Error(`xorriso could not make the CD ${options.out}:\n${stderr}`);
  }
  return (await listTree(staging)).sort();
}

/** A `cd_content` key as a path under the staging root, refusing one that climbs out. */
function contentTarget(staging: string, path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) {
        throw new Error(`cd_content key ${JSON.stringify(path)} points outside the CD`);
      }
      parts.pop();
    } else parts.push(part);
  }
  if (parts.length === 0) throw new Error(`cd_content key ${JSON.stringify(path)} names no file`);
  return `${staging}/${parts.join("/")}`;
}

async function addPath(source: string, root: string, contentsOnly: boolean): Promise<void> {
  const info = await Deno.stat(source);
  const name = source.replace(/\/+$/, "").split("/").pop()!;
  if (!info.isDirectory) {
    await Deno.copyFile(source, `${root}/${name}`);
    return;
  }
  const target = contentsOnly ? root : `${root}/${name}`;
  await copyTree(source, target);
}

// Like Go's filepath.Walk: a symbolic link to a file is copied as the file's content.
async function copyTree(source: string, target: string): Promise<void> {
  await Deno.mkdir(target, { recursive: true });
  for await (const entry of Deno.readDir(source)) {
    const from = `${source}/${entry.name}`;
    const to = `${target}/${entry.name}`;
    if (entry.isDirectory) await copyTree(from, to);
    else await Deno.copyFile(from, to);
  }
}

async function listTree(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(`${root}${prefix}`)) {
    const path = `${prefix}/${entry.name}`;
    if (entry.isDirectory) out.push(`${path}/`, ...await listTree(root, path));
    else out.push(path);
  }
  return out;
}

function absolute(path: string, cwd: string): string {
  return path.startsWith("/") ? path : `${cwd}/${path}`;
}
