/**
 * How compress picks its format from the output name, exactly as Packer:
 * the last two `.ext` groups of the name (or of `name.format` when `format`
 * is set) decide — `.tar` before the last marks a tarball, `.zip`/`.tar`
 * last are archives, `.gz`/`.lz4`/`.xz`/`.bgzf` last are compression; anything else is
 * `.tar.gz` without renaming the file.
 */

/** The archive container, if any. */
export type ArchiveKind = "tar" | "zip" | undefined;
/** The compression algorithm, if any. */
export type Algorithm = "gzip" | "lz4" | "xz" | "bgzf" | undefined;

/** What to write. */
export interface CompressFormat {
  archive: ArchiveKind;
  algorithm: Algorithm;
}

const EXTENSIONS: Record<string, Algorithm> = {
  gz: "gzip",
  lz4: "lz4",
  xz: "xz",
  bgzf: "bgzf",
};

/** Packer's filenamePattern: a dot and lower-case letters or digits. */
const EXT = /\.([a-z0-9]+)/g;

/** Detects the format of `output` (and `format`, which overrides the name). */
export function detectFormat(output: string, format?: string): CompressFormat {
  const subject = format ? `${output}.${format}` : output;
  const groups = [...subject.matchAll(EXT)].map((m) => m[1]);
  if (groups.length === 0) return { archive: "tar", algorithm: "gzip" };
  const last = groups[groups.length - 1];
  const before = groups.length > 1 ? groups[groups.length - 2] : "";
  let archive: ArchiveKind = before === "tar" ? "tar" : undefined;
  if (last === "zip" || last === "tar") return { archive: last, algorithm: undefined };
  const algorithm = EXTENSIONS[last];
  if (algorithm) return { archive, algorithm };
  archive = "tar";
  return { archive, algorithm: "gzip" };
}
