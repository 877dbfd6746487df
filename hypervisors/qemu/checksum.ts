/**
 * `iso_checksum` in every form Packer accepts (go-getter's rules): `none`;
 * `md5:`, `sha1:`, `sha256:`, `sha512:` prefixes (any case); bare hex whose
 * length names the type; `file:` followed by a URL or path of a checksum file
 * in GNU (`<hex>  name`, `<hex> *name`) or BSD (`SHA256 (name) = <hex>`)
 * format, from which the line naming the image is taken.
 */
import { createHash } from "node:crypto";

/** Digest types Packer supports. */
export type ChecksumType = "md5" | "sha1" | "sha256" | "sha512";

/** An expected digest, lower-case hex. */
export interface Checksum {
  type: ChecksumType;
  hex: string;
}

const bytesOf: Record<ChecksumType, number> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 };

/** Packer's normalised spelling, "sha256:<hex>" (the cache name is derived from it). */
export function checksumText(c: Checksum): string {
  return `${c.type}:${c.hex}`;
}

/** A digest with its type given; the hex must have that type's length. */
export function checksumOfType(type: string, value: string): Checksum {
  const t = type.toLowerCase();
  if (!(t in bytesOf)) {
    throw new Error(
      `unsupported checksum type ${JSON.stringify(type)} (md5, sha1, sha256 or sha512)`,
    );
  }
  const hex = hexOf(value);
  if (hex.length !== bytesOf[t as ChecksumType] * 2) {
    throw new Error(
      `a ${t} checksum has ${bytesOf[t as ChecksumType] * 2} hex digits, ${
        JSON.stringify(value)
      } has ${hex.length}`,
    );
  }
  return { type: t as ChecksumType, hex };
}

/** A bare digest, its type guessed from its length as go-getter does. */
export function checksumByLength(value: string): Checksum {
  const hex = hexOf(value);
  const type = (Object.keys(bytesOf) as ChecksumType[]).find((t) => bytesOf[t] * 2 === hex.length);
  if (!type) {
    throw new Error(
      `cannot tell the type of checksum ${JSON.stringify(value)} from its length ` +
        `(32, 40, 64 or 128 hex digits; or prefix it, e.g. "sha256:")`,
    );
  }
  return { type, hex };
}

function hexOf(value: string): string {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(value)) {
    throw new Error(`${JSON.stringify(value)} is not a hexadecimal checksum`);
  }
  return value.toLowerCase();
}

/** How to fetch a `file:` checksum file that is a URL. */
export type FetchText = (url: string) => Promise<string>;

/**
 * Resolves `iso_checksum` for the image at `imageUrl` (the first of
 * `iso_urls`, as Packer uses): undefined for `none`.
 */
export async function resolveChecksum(
  isoChecksum: string,
  imageUrl: string,
  options: { cwd: string; fetchText?: FetchText },
): Promise<Checksum | undefined> {
  const value = isoChecksum.trim();
  if (value === "none") return undefined;
  if (value === "") throw new Error('iso_checksum is empty; give a checksum or "none"');
  const colon = value.indexOf(":");
  if (colon < 0) return checksumByLength(value);
  const type = value.slice(0, colon);
  const rest = value.slice(colon + 1);
  if (type.toLowerCase() !== "file") return checksumOfType(type, rest);

  const fileText = await readChecksumFile(rest, options);
  const found = findInChecksumFile(
    fileText,
    imagePath(imageUrl),
    checksumFileDir(rest, options.cwd),
    options.cwd,
  );
  if (!found) throw new Error(`no checksum for ${imageUrl} found in ${rest}`);
  return found;
}

async function readChecksumFile(location: string, options: { cwd: string; fetchText?: FetchText }) {
  if (/^https?:\/\//i.test(location)) {
    const fetchText = options.fetchText ?? (async (url: string) => {
      const response = await fetch(url);
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`HTTP ${response.status}`);
      }
      return await response.text();
    });
    try {
      return await fetchText(location);
    } catch (e) {
      throw new Error(`cannot download the checksum file ${location}: ${(e as Error).message}`);
    }
  }
  const path = localPath(location, options.cwd);
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`cannot read the checksum file ${location}: ${(e as Error).message}`);
  }
}

/** A local path from "file://./x", "file:///x", "./x" or "/x", relative to `cwd`. */
export function localPath(location: string, cwd: string): string {
  let path = location.replace(/^file:\/\//i, "");
  try {
    path = decodeURIComponent(path);
  } catch { /* keep it as written */ }
  return path.startsWith("/") ? path : `${cwd}/${path}`;
}

function imagePath(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^file:/i.test(url)) return new URL(url).pathname;
  return url.replace(/^file:\/\//i, "");
}

function checksumFileDir(location: string, cwd: string): string {
  const path = /^https?:\/\//i.test(location)
    ? new URL(location).pathname
    : localPath(location, cwd);
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/**
 * The checksum of `imagePath` in a checksum file: the first line that names
 * it (as `name`, `*name`, `?name`, a path relative to the checksum file, its
 * `./` form, or the absolute path), or a line with no name, or one whose
 * name (less leading "./") is part of the image's path — go-getter's rules.
 */
export function findInChecksumFile(
  text: string,
  imagePath: string,
  checksumDir: string,
  cwd: string,
): Checksum | undefined {
  const filename = imagePath.split("/").pop() ?? imagePath;
  const absolute = imagePath.startsWith("/") ? imagePath : normalise(`${cwd}/${imagePath}`);
  const relative = relativePath(checksumDir, absolute);
  const options = new Set([
    filename,
    `*${filename}`,
    `?${filename}`,
    relative,
    `./${relative}`,
    absolute,
  ]);
  for (const line of text.split("\n")) {
    if (line === "" || "#/-".includes(line[0])) continue;
    const parts = line.trim().split(/\s+/).filter(Boolean);
    let entry: { checksum: Checksum; name: string } | undefined;
    try {
      if (parts.length === 0) continue;
      if (parts.length === 4) {
        const m = /^\((.+)\)$/.exec(parts[1]);
        if (!m) continue;
        entry = { checksum: checksumOfType(parts[0], parts[3]), name: m[1] };
      } else if (parts.length === 2) {
        entry = { checksum: checksumByLength(parts[0]), name: parts[1] };
      } else {
        entry = { checksum: checksumByLength(parts[0]), name: "" };
      }
    } catch {
      continue;
    }
    if (entry.name === "" || options.has(entry.name)) return entry.checksum;
    const trimmed = entry.name.replace(/^[./]+/, "");
    if (imagePath.includes(trimmed)) return entry.checksum;
  }
  return undefined;
}

function normalise(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

function relativePath(from: string, to: string): string {
  const a = normalise(from).split("/").filter(Boolean);
  const b = normalise(to).split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...Array(a.length - i).fill(".."), ...b.slice(i)].join("/");
}

/** The digest of a file, read in 1 MiB blocks. */
export async function hashFile(path: string, type: ChecksumType): Promise<string> {
  const hash = createHash(type);
  const file = await Deno.open(path);
  try {
    const buffer = new Uint8Array(1024 * 1024);
    for (;;) {
      const n = await file.read(buffer);
      if (n === null) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}
