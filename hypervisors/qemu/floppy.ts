/**
 * `floppy_files` / `floppy_dirs` / `floppy_content` / `floppy_label`: a
 * 1.44 MB FAT12 image, made with mtools (mformat, mmd, mcopy).
 *
 * Layout as Packer's StepCreateFloppy: `floppy_files` are flattened into the
 * root (a directory there contributes every file under it, each by its own
 * name); `floppy_dirs` keep their structure under the directory's own name;
 * a name used twice is an error (FAT names ignore case). `floppy_content`
 * keys also land in the root by their last path element — Packer's code
 * does that whatever the key says, so kiln does too and says so in a
 * warning — and replace a file of the same name, as Packer documents.
 * The label is written into the boot sector as given, as Packer's FAT
 * writer does (no upper-casing, no root-directory label entry).
 */
import { goGlob, isGlobPattern } from "./go_glob.ts";

/** What goes on the floppy. */
export interface FloppySpec {
  files?: readonly string[];
  dirs?: readonly string[];
  content?: Readonly<Record<string, string>>;
  /** `floppy_label`; Packer's default is "packer". */
  label?: string;
}

/** One file on the floppy and where its bytes come from. */
export interface FloppyEntry {
  /** Path on the floppy, "/" separated, without a leading slash. */
  path: string;
  source?: string;
  content?: string;
}

/** Packer's default floppy label. */
export const defaultFloppyLabel = "packer";

const floppyBytes = 1440 * 1024;

/** Where every file goes, as Packer lays it out; `warnings` for flattened content keys. */
export async function floppyLayout(
  spec: FloppySpec,
  cwd: string,
): Promise<{ entries: FloppyEntry[]; dirs: string[]; warnings: string[] }> {
  const entries: FloppyEntry[] = [];
  const dirs: string[] = [];
  const warnings: string[] = [];
  const taken = new Map<string, string>();
  const claim = (path: string, from: string) => {
    const key = path.toUpperCase();
    const previous = taken.get(key);
    if (previous !== undefined) {
      throw new Error(
        `${from}: the floppy already has ${
          JSON.stringify(path)
        } (from ${previous}); FAT names ignore case`,
      );
    }
    taken.set(key, from);
  };

  for (const [i, pattern] of (spec.files ?? []).entries()) {
    const where = `floppy_files[${i}]`;
    for (const path of await expand(pattern, cwd, where)) {
      const info = await Deno.stat(abs(path, cwd)).catch(() => {
        throw new Error(`${where}: cannot read ${JSON.stringify(path)}: no such file or directory`);
      });
      const sources = info.isDirectory ? await filesUnder(abs(path, cwd)) : [abs(path, cwd)];
      for (const source of sources) {
        const name = baseName(source);
        claim(name, `${where} (${source})`);
        entries.push({ path: name, source });
      }
    }
  }

  for (const [i, pattern] of (spec.dirs ?? []).entries()) {
    const where = `floppy_dirs[${i}]`;
    for (const path of await expand(pattern, cwd, where)) {
      const source = abs(path, cwd).replace(/\/+$/, "");
      const info = await Deno.stat(source).catch(() => {
        throw new Error(`${where}: cannot read ${JSON.stringify(path)}: no such file or directory`);
      });
      if (!info.isDirectory) {
        claim(baseName(source), `${where} (${source})`);
        entries.push({ path: baseName(source), source });
        continue;
      }
      const top = baseName(source);
      dirs.push(top);
      for (const sub of await dirsUnder(source)) dirs.push(`${top}/${sub}`);
      for (const file of await filesUnder(source)) {
        const path = `${top}/${file.slice(source.length + 1)}`;
        claim(path, `${where} (${file})`);
        entries.push({ path, source: file });
      }
    }
  }

  for (const [key, text] of Object.entries(spec.content ?? {})) {
    const name = key.split("/").filter(Boolean).pop();
    if (!name || name === "." || name === "..") {
      throw new Error(`floppy_content key ${JSON.stringify(key)} names no file`);
    }
    if (name !== key.replace(/^\/+/, "")) {
      warnings.push(
        `floppy_content ${JSON.stringify(key)} is written to the floppy's root as ${
          JSON.stringify(name)
        }, as Packer does`,
      );
    }
    const existing = entries.findIndex((e) => e.path.toUpperCase() === name.toUpperCase());
    if (existing >= 0) entries.splice(existing, 1);
    entries.push({ path: name, content: text });
  }
  return { entries, dirs: [...new Set(dirs)], warnings };
}

/** Writes the 1.44 MB image to `out`; returns the layout's warnings. */
export async function makeFloppy(
  spec: FloppySpec,
  options: { out: string; cwd: string; scratch: string },
): Promise<{ entries: FloppyEntry[]; warnings: string[] }> {
  const label = spec.label || defaultFloppyLabel;
  if (label.length > 11 || !/^[\x20-\x7e]*$/.test(label)) {
    throw new Error(
      `floppy_label ${JSON.stringify(label)} must be at most 11 ASCII characters (the FAT limit)`,
    );
  }
  const { entries, dirs, warnings } = await floppyLayout(spec, options.cwd);
  await Deno.remove(options.out).catch(() => {});
  await mtool("mformat", ["-C", "-i", options.out, "-f", "1440", "::"]);
  await writeLabel(options.out, label);
  for (const dir of dirs) await mtool("mmd", ["-i", options.out, `::/${fatPath(dir)}`]);
  await Deno.mkdir(options.scratch, { recursive: true });
  for (const [i, entry] of entries.entries()) {
    let source = entry.source;
    if (source === undefined) {
      source = `${options.scratch}/content-${i}`;
      await Deno.writeTextFile(source, entry.content ?? "");
    }
    await mtool("mcopy", ["-i", options.out, "-o", source, `::/${fatPath(entry.path)}`]).catch(
      (e) => {
        throw /disk full|no free clusters/i.test(e.message)
          ? new Error(`the floppy files do not fit on a 1.44 MB floppy (at ${entry.path})`)
          : e;
      },
    );
  }
  return { entries, warnings };
}

/**
 * Packer's FAT writer puts the label in the boot sector (volume label and
 * OEM name fields). kiln also writes it as the root directory's volume label
 * entry, where blkid — and so cloud-init looking for LABEL=cidata — reads it.
 */
async function writeLabel(image: string, label: string): Promise<void> {
  const ascii = new TextEncoder().encode(label);
  const file = await Deno.open(image, { read: true, write: true });
  try {
    const sector = new Uint8Array(512);
    await file.read(sector);
    // Zero-padded, byte for byte as Packer's writer leaves these fields.
    sector.fill(0, 3, 11);
    sector.set(ascii.subarray(0, 8), 3);
    sector.fill(0, 43, 54);
    sector.set(ascii, 43);
    await file.seek(0, Deno.SeekMode.Start);
    await file.write(sector);
    // The root directory follows the reserved sectors and both FATs; it is still empty.
    const view = new DataView(sector.buffer);
    const rootOffset = (view.getUint16(14, true) + sector[16] * view.getUint16(22, true)) *
      view.getUint16(11, true);
    const entry = new Uint8Array(32).fill(0x20, 0, 11);
    entry.set(ascii, 0);
    entry[11] = 0x08;
    await file.seek(rootOffset, Deno.SeekMode.Start);
    await file.write(entry);
  } finally {
    file.close();
  }
  if ((await Deno.stat(image)).size !== floppyBytes) {
    throw new Error(`mformat made ${image} the wrong size`);
  }
}

async function mtool(tool: string, args: string[]): Promise<void> {
  const result = await (async () =>
    await new Deno.Command(tool, {
      args,
      env: { MTOOLS_SKIP_CHECK: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output())().catch((e) => {
      throw e instanceof Deno.errors.NotFound
        ? new Error(
          `floppy images need mtools, which is not installed (Debian: apt-get install mtools)`,
        )
        : e;
    });
  if (!result.success) {
    const err = new TextDecoder().decode(result.stderr).trim() ||
      new TextDecoder().decode(result.stdout).trim();
    throw new Error(`${tool} failed: ${err}`);
  }
}

async function expand(pattern: string, cwd: string, where: string): Promise<string[]> {
  if (!isGlobPattern(pattern)) return [pattern];
  try {
    return await goGlob(pattern, cwd);
  } catch (e) {
    throw new Error(`${where}: bad pattern ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

// filepath.Walk order: lexical, depth first; links to files count as files.
async function filesUnder(dir: string): Promise<string[]> {
  const names: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry);
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const entry of names) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await filesUnder(path));
    else out.push(path);
  }
  return out;
}

async function dirsUnder(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) if (entry.isDirectory) names.push(entry.name);
  for (const name of names.sort()) {
    out.push(prefix + name, ...await dirsUnder(`${dir}/${name}`, `${prefix}${name}/`));
  }
  return out;
}

const shortName = /^[A-Z0-9!#$%&'()@^_`{}~-]{1,8}(\.[A-Z0-9!#$%&'()@^_`{}~-]{1,3})?$/;

/**
 * The name Packer's FAT writer stores: a name that fits 8.3 once upper-cased
 * is stored upper-cased with no long name; any other keeps its long name.
 */
export function fatPath(path: string): string {
  return path.split("/").map((part) =>
    shortName.test(part.toUpperCase()) ? part.toUpperCase() : part
  )
    .join("/");
}

function baseName(path: string): string {
  return path.replace(/\/+$/, "").split("/").pop()!;
}

function abs(path: string, cwd: string): string {
  return path.startsWith("/") ? path : `${cwd}/${path}`;
}
