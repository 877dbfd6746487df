/**
 * Writes initramfs archives in the kernel's "newc" cpio format. Written here
 * rather than with GNU cpio so every entry is owned by root with a fixed
 * mtime whoever builds it, and the archive is the same bytes every time.
 */

/** One archive member: a directory, a regular file or a symbolic link. */
export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Uint8Array; mode?: number }
  | { kind: "symlink"; path: string; target: string };

const encoder = new TextEncoder();

function header(fields: number[]): string {
  return "070701" + fields.map((f) => f.toString(16).padStart(8, "0")).join("");
}

function padTo4(length: number): Uint8Array {
  return new Uint8Array((4 - (length % 4)) % 4);
}

/** The archive bytes for `entries` (paths relative, without a leading slash), ending in the trailer. */
export function cpioNewc(entries: CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let ino = 1;
  const add = (path: string, mode: number, data: Uint8Array) => {
    const name = encoder.encode(path + "\0");
    // ino, mode, uid, gid, nlink, mtime, filesize, dev major/minor, rdev major/minor, namesize, check
    const head = encoder.encode(
      header([ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length, 0]),
    );
    parts.push(head, name, padTo4(head.length + name.length), data, padTo4(data.length));
  };
  for (const entry of entries) {
    if (entry.kind === "dir") add(entry.path, 0o040000 | (entry.mode ?? 0o755), new Uint8Array());
    else if (entry.kind === "file") add(entry.path, 0o100000 | (entry.mode ?? 0o644), entry.data);
    else add(entry.path, 0o120777, encoder.encode(entry.target));
  }
  add("TRAILER!!!", 0, new Uint8Array());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
