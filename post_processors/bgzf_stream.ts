/**
 * BGZF (blocked gzip, as bgzip/samtools and Packer's `.bgzf` write it): the
 * input is cut into blocks of at most 65280 bytes, each its own gzip member
 * carrying a "BC" extra field with the member's size, followed by the
 * standard empty end-of-file block. Plain `gzip -d` reads it too.
 */
import { crc32, deflateRawSync } from "node:zlib";
import { fixedBlocks } from "./fixed_blocks.ts";

/** Largest input per block (bgzip's choice: the compressed member must fit in 64 KiB). */
const BLOCK_INPUT = 0xff00;
const MAX_MEMBER = 0x10000;
const HEADER = 18;
const TRAILER = 8;

/** The empty block that marks the end of a BGZF file. */
export const BGZF_EOF = new Uint8Array([
  0x1f,
  0x8b,
  0x08,
  0x04,
  0,
  0,
  0,
  0,
  0,
  0xff,
  0x06,
  0,
  0x42,
  0x43,
  0x02,
  0,
  0x1b,
  0,
  0x03,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
]);

/** Compresses `source` into BGZF at `level` (1-9). */
export async function* bgzfStream(
  source: AsyncIterable<Uint8Array>,
  level: number,
): AsyncGenerator<Uint8Array> {
  for await (const block of fixedBlocks(source, BLOCK_INPUT)) yield member(block, level);
  yield BGZF_EOF;
}

function member(data: Uint8Array, level: number): Uint8Array {
  let deflated: Uint8Array = deflateRawSync(data, { level });
  // Incompressible input can grow past a member's 64 KiB limit: store it instead.
  if (deflated.length + HEADER + TRAILER > MAX_MEMBER) {
    deflated = deflateRawSync(data, { level: 0 });
  }
  const size = HEADER + deflated.length + TRAILER;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set([0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0, 0x42, 0x43, 0x02, 0]);
  view.setUint16(16, size - 1, true);
  out.set(deflated, HEADER);
  view.setUint32(size - 8, crc32(data) >>> 0, true);
  view.setUint32(size - 4, data.length, true);
  return out;
}
