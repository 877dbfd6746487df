/**
 * gzip over a byte stream with node:zlib, respecting backpressure: input is
 * written only as fast as the compressed output is consumed.
 */
import { createGzip } from "node:zlib";
import { once } from "node:events";

/** Compresses `source` into one gzip member at `level` (1-9). */
export async function* gzipStream(
  source: AsyncIterable<Uint8Array>,
  level: number,
): AsyncGenerator<Uint8Array> {
  const gzip = createGzip({ level });
  const feed = (async () => {
    for await (const chunk of source) {
      if (!gzip.write(chunk)) await once(gzip, "drain");
    }
    gzip.end();
  })();
  feed.catch((err) => gzip.destroy(err));
  for await (const out of gzip) yield out as Uint8Array;
  await feed;
}
