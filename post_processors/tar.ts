/**
 * A streaming tar writer producing what Packer's compress writes: GNU
 * format headers named by each file's base name, owner ids and names and
 * permission bits from the file, modification time 0 (so the same inputs
 * give the same archive bytes), GNU long-name records for names over 100
 * bytes and base-256 sizes for files of 8 GiB and more. Files are read in
 * chunks, never whole.
 */
import { basename } from "node:path";

const BLOCK = 512;
const CHUNK = 1 << 20;
const encoder = new TextEncoder();

/**
 * What to put in the archive under `name`: a file read in chunks (`path`),
 * or a few bytes made in memory (`bytes`: a box's metadata.json), written
 * with mode 0644 and the current user as owner, as a freshly made file.
 */
export type TarEntry =
  | { name: string; path: string; bytes?: undefined }
  | { name: string; bytes: Uint8Array; path?: undefined };

/** Entries for artifact files, named by base name as Packer does. */
export function tarEntries(files: readonly string[]): TarEntry[] {
  return files.map((path) => ({ path, name: basename(path) }));
}

/** The archive's bytes, entry by entry, ending with two zero blocks. */
export async function* tarStream(
  entries: readonly TarEntry[],
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const names = await ownerNames();
  for (const entry of entries) {
    if (entry.bytes !== undefined) {
      yield* memoryEntry(entry.name, entry.bytes, names);
      continue;
    }
    const info = await Deno.stat(entry.path).catch((err) => {
      throw new Error(`Unable to read file ${entry.path}: ${(err as Error).message}`);
    });
    if (!info.isFile) {
      throw new Error(`Unable to read file ${entry.path}: not a regular file`);
    }
    const header = {
      name: entry.name,
      mode: (info.mode ?? 0o644) & 0o7777,
      uid: info.uid ?? 0,
      gid: info.gid ?? 0,
      size: info.size,
      uname: names.users.get(info.uid ?? 0) ?? "",
      gname: names.groups.get(info.gid ?? 0) ?? "",
    };
    yield* longName(header);
    yield headerBlock(header, "0");
    yield* fileBlocks(entry.path, info.size, signal);
  }
  yield new Uint8Array(BLOCK * 2);
}

function* memoryEntry(
  name: string,
  bytes: Uint8Array,
  names: { users: Map<number, string>; groups: Map<number, string> },
): Generator<Uint8Array> {
  const uid = Deno.uid() ?? 0;
  const gid = Deno.gid() ?? 0;
  const header = {
    name,
    mode: 0o644,
    uid,
    gid,
    size: bytes.length,
    uname: names.users.get(uid) ?? "",
    gname: names.groups.get(gid) ?? "",
  };
  yield* longName(header);
  yield headerBlock(header, "0");
  if (bytes.length > 0) yield padded(bytes);
}

/** A GNU long-name record before a header whose name does not fit in 100 bytes. */
function* longName(header: Header): Generator<Uint8Array> {
  if (encoder.encode(header.name).length <= 100) return;
  const long = encoder.encode(header.name + "\0");
  yield headerBlock({ ...header, name: "././@LongLink", size: long.length, mode: 0 }, "L");
  yield padded(long);
}

async function* fileBlocks(
  path: string,
  size: number,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path);
  let left = size;
  while (left > 0) {
    signal?.throwIfAborted();
    const buf = new Uint8Array(Math.min(CHUNK, left));
    let filled = 0;
    while (filled < buf.length) {
      const n = await file.read(buf.subarray(filled));
      if (n === null) throw new Error(`Failed to copy ${path} data to archive: file shrank`);
      filled += n;
    }
    left -= filled;
    yield buf;
  }
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  if (pad > 0) yield new Uint8Array(pad);
}

function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / BLOCK) * BLOCK);
  out.set(bytes);
  return out;
}

interface Header {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  uname: string;
  gname: string;
}

/** One 512-byte header block (GNU magic, as Go's tar.FormatGNU). */
function headerBlock(h: Header, type: string): Uint8Array {
  const b = new Uint8Array(BLOCK);
  text(b, 0, 100, h.name);
  octal(b, 100, 8, h.mode);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  number(b, 124, 12, h.size);
  octal(b, 136, 12, 0);
  b.fill(0x20, 148, 156);
  b[156] = type.charCodeAt(0);
  text(b, 257, 8, "ustar  \0");
  text(b, 265, 32, h.uname);
  text(b, 297, 32, h.gname);
  octal(b, 329, 8, 0);
  octal(b, 337, 8, 0);
  const sum = b.reduce((a, v) => a + v, 0);
  text(b, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return b;
}

function text(b: Uint8Array, off: number, len: number, s: string): void {
  b.set(encoder.encode(s).subarray(0, len), off);
}

function octal(b: Uint8Array, off: number, len: number, n: number): void {
  text(b, off, len, n.toString(8).padStart(len - 1, "0") + "\0");
}

/** Octal when it fits, else GNU base-256 (high bit set, big-endian). */
function number(b: Uint8Array, off: number, len: number, n: number): void {
  if (n < 8 ** (len - 1)) return octal(b, off, len, n);
  let v = BigInt(n);
  for (let i = off + len - 1; i > off; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  b[off] = 0x80;
}

/** uid → user name and gid → group name, from /etc/passwd and /etc/group. */
async function ownerNames(): Promise<{ users: Map<number, string>; groups: Map<number, string> }> {
  const read = async (path: string) => {
    const map = new Map<number, string>();
    try {
      for (const line of (await Deno.readTextFile(path)).split("\n")) {
        const [name, , id] = line.split(":");
        if (name && id !== undefined && /^\d+$/.test(id) && !map.has(Number(id))) {
          map.set(Number(id), name);
        }
      }
    } catch {
      // No names: the archive still carries the numeric ids.
    }
    return map;
  };
  return { users: await read("/etc/passwd"), groups: await read("/etc/group") };
}
