/**
 * A streaming zip writer on fflate: each file is deflated chunk by chunk and
 * the archive bytes are handed out as they are produced, so memory stays
 * bounded whatever the file sizes. Entries are named by the path as given
 * (as Packer's compress does), with any leading "/" removed so unzip does
 * not have to strip it.
 */
import { Zip, ZipDeflate } from "fflate";

const CHUNK = 1 << 20;
/** A fixed entry time keeps archives of the same inputs byte-identical. */
const ENTRY_TIME = new Date(1980, 0, 1);

/** The archive's bytes for `files`, compressed at `level` (1-9). */
export async function* zipStream(
  files: readonly string[],
  level: number,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const queue: Uint8Array[] = [];
  let failure: Error | undefined;
  const zip = new Zip((err, data) => {
    if (err) failure = err;
    else queue.push(data);
  });
  const drain = function* () {
    if (failure) throw failure;
    while (queue.length > 0) yield queue.shift()!;
  };
  for (const path of files) {
    const info = await Deno.stat(path).catch((err) => {
      throw new Error(`Unable to read file ${path}: ${(err as Error).message}`);
    });
    if (!info.isFile) throw new Error(`Unable to read file ${path}: not a regular file`);
    if (info.size >= 0xffffffff) {
      throw new Error(`${path} is 4 GiB or larger: zip64 is not supported, use .tar.gz`);
    }
    const entry = new ZipDeflate(path.replace(/\\/g, "/").replace(/^\/+/, ""), {
      level: level as 1,
    });
    entry.mtime = ENTRY_TIME;
    zip.add(entry);
    using file = await Deno.open(path);
    const buf = new Uint8Array(CHUNK);
    let n = await file.read(buf);
    if (n === null) entry.push(new Uint8Array(0), true);
    while (n !== null) {
      signal?.throwIfAborted();
      const chunk = buf.slice(0, n);
      n = await file.read(buf);
      entry.push(chunk, n === null);
      yield* drain();
    }
    yield* drain();
  }
  zip.end();
  yield* drain();
}
