/** Large test inputs for transfer tests and benchmarks. */

/**
 * Writes `mib` MiB that neither compresses nor dedupes trivially (random
 * head, per-MiB fill), without holding more than 1 MiB in memory.
 */
export async function writeRandomFile(path: string, mib: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const block = new Uint8Array(1 << 20);
    for (let i = 0; i < mib; i++) {
      crypto.getRandomValues(block.subarray(0, 65536));
      block.fill(i & 0xff, 65536);
      for (let done = 0; done < block.length;) done += await file.write(block.subarray(done));
    }
  } finally {
    file.close();
  }
}
