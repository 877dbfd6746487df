/**
 * Block formats (BGZF members, LZ4 frame blocks) compress fixed-size pieces
 * of the input, whatever sizes the source's chunks arrive in.
 */

/**
 * Regroups `source` into blocks of exactly `size` bytes; the last block holds
 * the remainder and is omitted when there is none. Each block is a fresh
 * buffer, so a consumer may keep it.
 */
export async function* fixedBlocks(
  source: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let block = new Uint8Array(size);
  let filled = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, size - filled);
      block.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === size) {
        yield block;
        block = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield block.subarray(0, filled);
}
