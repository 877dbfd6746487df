/**
 * LZ4 frame format (what `lz4 -d` and Packer's pierrec/lz4 read), streamed:
 * input is cut into 4 MiB blocks, each compressed independently with lz4js'
 * block compressor, or stored raw when it does not shrink; the frame ends
 * with a content checksum, as Packer's frames do.
 */
import lz4 from "lz4js";
import { Xxh32, xxh32 } from "./xxh32.ts";
import { fixedBlocks } from "./fixed_blocks.ts";

export { xxh32 };

const MAGIC = [0x04, 0x22, 0x4d, 0x18];
/** Version 01, independent blocks, content checksum (Packer writes the same flags). */
const FLG = 0x64;
/** 4 MiB maximum block size. */
const BD = 0x70;
const BLOCK_SIZE = 4 << 20;

/** Compresses a byte stream into one LZ4 frame. */
export async function* lz4Frame(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield new Uint8Array([...MAGIC, FLG, BD, (xxh32(new Uint8Array([FLG, BD])) >>> 8) & 0xff]);
  const table = new Uint32Array(1 << 16);
  const checksum = new Xxh32();
  for await (const block of fixedBlocks(source, BLOCK_SIZE)) {
    checksum.update(block);
    yield compressBlock(block, table);
  }
  const end = new Uint8Array(8); // end mark, then the content checksum
  new DataView(end.buffer).setUint32(4, checksum.digest(), true);
  yield end;
}

function compressBlock(src: Uint8Array, table: Uint32Array): Uint8Array {
  const length = src.length;
  table.fill(0);
  const dst = new Uint8Array(lz4.compressBound(length));
  const size: number = lz4.compressBlock(src, dst, 0, length, table);
  const stored = size === 0 || size >= length;
  const body = stored ? src.subarray(0, length) : dst.subarray(0, size);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, (stored ? 0x80000000 : 0) | body.length >>> 0, true);
  out.set(body, 4);
  return out;
}
