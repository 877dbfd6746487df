/**
 * `iso_checksum` as Packer (go-getter) reads it: "none", "type:hex" for md5,
 * sha1, sha256 and sha512, bare hex whose length names the type, or
 * "file:<path or URL>" of a checksum file (GNU `hex  name` or BSD
 * `TYPE (name) = hex` lines). Problems read as go-getter's.
 */
import { basename, dirname, relative, resolve } from "node:path";

/** The hash types go-getter knows, by digest length in bytes. */
export const CHECKSUM_TYPES = { md5: 16, sha1: 20, sha256: 32, sha512: 64 } as const;

/** A checksum type. */
export type ChecksumType = keyof typeof CHECKSUM_TYPES;

/** A digest to verify a download against. */
export interface Digest {
  type: ChecksumType;
  /** Lowercase hex. */
  hex: string;
}

/** What an `iso_checksum` asks for. */
export type ChecksumSpec =
  | { kind: "none" }
  | ({ kind: "digest" } & Digest)
  | {
    kind: "file";
    /** Where the checksum file is: a path (relative to the working directory) or a URL. */
    source: string;
  };

/** A problem, in go-getter's words. */
export class ChecksumError extends Error {
  override name = "ChecksumError";
}

// Go's strconv.IsPrint for a byte taken as a rune (Latin-1), enough for %#U.
const printable = (b: number) => (b >= 0x20 && b < 0x7f) || (b > 0xa0 && b !== 0xad);

/** Go's hex.DecodeString, with its error text. */
function decodeHex(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const isHex = (b: number) =>
    (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46);
  const invalid = (b: number) => {
    const code = "U+" + b.toString(16).toUpperCase().padStart(4, "0");
    const shown = printable(b) ? `${code} '${String.fromCharCode(b)}'` : code;
    return new ChecksumError(`invalid checksum: encoding/hex: invalid byte: ${shown}`);
  };
  let i = 1;
  for (; i < bytes.length; i += 2) {
    if (!isHex(bytes[i - 1])) throw invalid(bytes[i - 1]);
    if (!isHex(bytes[i])) throw invalid(bytes[i]);
  }
  if (bytes.length % 2 === 1) {
    if (!isHex(bytes[i - 1])) throw invalid(bytes[i - 1]);
    throw new ChecksumError("invalid checksum: encoding/hex: odd length hex string");
  }
  const out = new Uint8Array(bytes.length / 2);
  for (let j = 0; j < out.length; j++) out[j] = parseInt(text.slice(2 * j, 2 * j + 2), 16);
  return out;
}

const toHex = (bytes: Uint8Array) =>
  [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** `type:hex`: the hex must decode before the type is looked at, as in go-getter. */
function typedDigest(type: string, value: string): Digest {
  const bytes = decodeHex(value);
  const lower = type.toLowerCase();
  if (!Object.hasOwn(CHECKSUM_TYPES, lower)) {
    throw new ChecksumError(`unsupported checksum type: ${type}`);
  }
  return { type: lower as ChecksumType, hex: toHex(bytes) };
}

/** Bare hex: the type follows from the digest's length. */
function guessedDigest(value: string): Digest {
  const bytes = decodeHex(value);
  const type = (Object.keys(CHECKSUM_TYPES) as ChecksumType[])
    .find((t) => CHECKSUM_TYPES[t] === bytes.length);
  if (!type) throw new ChecksumError(`Unknown type for checksum ${value}`);
  return { type, hex: toHex(bytes) };
}

/**
 * Parses an `iso_checksum` without reading any file. Throws ChecksumError.
 * (An empty value is the caller's to refuse: Packer says "A checksum must be specified".)
 */
export function parseChecksum(value: string): ChecksumSpec {
  if (value === "none") return { kind: "none" };
  const colon = value.indexOf(":");
  if (colon < 0) return { kind: "digest", ...guessedDigest(value) };
  const type = value.slice(0, colon);
  const rest = value.slice(colon + 1);
  if (type === "file") return { kind: "file", source: rest };
  return { kind: "digest", ...typedDigest(type, rest) };
}

/** The path part of a URL or local path (go-getter compares file names against it). */
function pathOf(source: string): string {
  try {
    const url = new URL(source);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return decodeURIComponent(url.pathname);
  } catch {
    // Not a URL: a local path.
  }
  return source.split(/[?#]/)[0];
}

/** A checksum line, GNU or BSD style; undefined for a line go-getter skips. */
function parseLine(line: string): { digest: Digest; name: string } | undefined {
  const parts = line.trim().split(/\s+/).filter((p) => p !== "");
  try {
    if (parts.length === 4) {
      const name = parts[1];
      if (name.length <= 2 || name[0] !== "(" || name.at(-1) !== ")") return undefined;
      return { digest: typedDigest(parts[0], parts[3]), name: name.slice(1, -1) };
    }
    if (parts.length === 2) return { digest: guessedDigest(parts[0]), name: parts[1] };
    if (parts.length === 0) return undefined;
    return { digest: guessedDigest(parts[0]), name: "" };
  } catch {
    return undefined;
  }
}

/**
 * Finds the digest of `target` (the ISO's URL or path) in the text of the
 * checksum file at `source`, as go-getter does: the first line naming the
 * file (by base name, `*name`, `?name`, its path relative to the checksum
 * file, or its absolute path), or the first line naming no file at all. A
 * last line without a newline is not read (go-getter's reader drops it).
 */
export function digestFromChecksumFile(
  text: string,
  source: string,
  target: string,
): Digest {
  const targetPath = pathOf(target);
  const name = basename(targetPath);
  const absolute = resolve(targetPath);
  const rel = relative(dirname(resolve(pathOf(source))), absolute);
  const names = new Set([name, "*" + name, "?" + name, rel, "./" + rel, absolute]);
  const lines = text.split("\n");
  lines.pop();
  for (const line of lines) {
    const parsed = parseLine(line);
    if (!parsed) continue;
    if (parsed.name === "" || names.has(parsed.name)) return parsed.digest;
  }
  throw new ChecksumError(`no checksum found in: ${source}`);
}

/** Where a `file:` checksum source lives: a local path, or a URL to download. */
export function checksumFileLocation(
  source: string,
): { local: string } | { url: string } {
  // "file:x" without "//" is an opaque URL to go-getter: its path is empty.
  if (/^file:(?!\/\/)/i.test(source)) return { local: "" };
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(source);
  if (!m) return { local: source };
  if (m[1].toLowerCase() === "file") return { local: decodeURIComponent(new URL(source).pathname) };
  return { url: source };
}
