/**
 * Opening a run's files without being steered elsewhere: `events.jsonl`
 * must be a regular file in the run's own directory. A symlink would let
 * one run write into another run's log; a FIFO would make a reader block
 * forever. Files are opened with O_NOFOLLOW and O_NONBLOCK (a link is
 * refused by the kernel, a FIFO opens without blocking) and then checked
 * to be regular files before a byte is read or written.
 */
import fs from "node:fs";

const { O_RDONLY, O_RDWR, O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_NONBLOCK } =
  fs.constants;

/** The path is not a regular file (a link, FIFO, directory, device). */
export class NotRegularFileError extends Error {
  constructor(path: string, what: string) {
    super(`${path} is ${what}, not a regular file; refusing to use it`);
    this.name = "NotRegularFileError";
  }
}

function kindOf(info: fs.Stats): string {
  if (info.isSymbolicLink()) return "a symbolic link";
  if (info.isDirectory()) return "a directory";
  if (info.isFIFO()) return "a FIFO";
  if (info.isSocket()) return "a socket";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  return "not a file";
}

/** How a log file is opened. */
export type OpenMode = "read" | "update" | "create";

const FLAGS: Record<OpenMode, number> = {
  read: O_RDONLY | O_NOFOLLOW | O_NONBLOCK,
  update: O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK,
  create: O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW,
};

/**
 * Opens `path` as a regular file (see the module comment); returns a
 * node:fs descriptor. Throws NotFound-style errors as node does and
 * NotRegularFileError for anything that is not a plain file.
 */
export function openLogFile(path: string, mode: OpenMode): number {
  let fd: number;
  try {
    fd = fs.openSync(path, FLAGS[mode], 0o600);
  } catch (err) {
    if ((err as { code?: string }).code === "ELOOP") {
      throw new NotRegularFileError(path, "a symbolic link");
    }
    throw err;
  }
  const info = fs.fstatSync(fd);
  if (!info.isFile()) {
    fs.closeSync(fd);
    throw new NotRegularFileError(path, kindOf(info));
  }
  return fd;
}

/** Throws NotRegularFileError unless `path` itself is a directory (not a link to one). */
export function assertRealDirectory(path: string): void {
  const info = fs.lstatSync(path);
  if (!info.isDirectory()) {
    throw new NotRegularFileError(path, `${kindOf(info)} where a run directory belongs`);
  }
}

/** Whether a node:fs error means "no such file". */
export function isNotFound(err: unknown): boolean {
  return (err as { code?: string })?.code === "ENOENT" || err instanceof Deno.errors.NotFound;
}
