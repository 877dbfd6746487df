/**
 * LZ4 frame format (what `lz4 -d` and Packer's pierrec/lz4 read), streamed:
 * input is cut into 4 MiB blocks, each compressed independently with lz4js'
 * block compressor, or stored raw when it does not shrink.
 */
import lz4 from "lz4js";

const MAGIC = [0x04, 0x22, 0x4d, 0x18];
/** Version 01, independent blocks. */
const FLG = 0x60;
/** 4 MiB maximum block size. */
const BD = 0x70;
const BLOCK_SIZE = 4 << 20;

/** Compresses a byte stream into one LZ4 frame. */
export async function* lz4Frame(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield new Uint8Array([...MAGIC, FLG, BD, (xxh32(new Uint8Array([FLG, BD])) >>> 8) & 0xff]);
  const table = new Uint32Array(1 << 16);
  let block = new Uint8Array(BLOCK_SIZE);
  let filled = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, BLOCK_SIZE - filled);
      block.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === BLOCK_SIZE) {
        yield compressBlock(block, filled, table);
        block = new Uint8Array(BLOCK_SIZE);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield compressBlock(block, filled, table);
  yield new Uint8Array(4); // end mark
}

function compressBlock(src: Uint8Array, length: number, table: Uint32Array): Uint8Array {
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

const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f, P5 = 0x165667b1;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));

/** xxHash32 with seed 0 (the frame descriptor checksum). */
export function xxh32(data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.length;
  let i = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (P1 + P2) | 0, v2 = P2, v3 = 0, v4 = -P1 | 0;
    const round = (v: number, at: number) =>
      Math.imul(rotl((v + Math.imul(view.getUint32(at, true), P2)) | 0, 13), P1);
    for (; i + 16 <= len; i += 16) {
      v1 = round(v1, i);
      v2 = round(v2, i + 4);
      v3 = round(v3, i + 8);
      v4 = round(v4, i + 12);
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else h = P5;
  h = (h + len) | 0;
  for (; i + 4 <= len; i += 4) {
    h = Math.imul(rotl((h + Math.imul(view.getUint32(i, true), P3)) | 0, 17), P4);
  }
  for (; i < len; i++) h = Math.imul(rotl((h + Math.imul(data[i], P5)) | 0, 11), P1);
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}
