/** Bounded parallelism for `-parallel-builds`. */

/** Runs `fn` over `items` with at most `limit` at once (0: all at once); keeps order. */
export async function inParallel<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const width = limit > 0 ? Math.min(limit, items.length) : items.length;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  }));
  return results;
}
