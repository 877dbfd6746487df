/**
 * A minimal PNG reader for screenshot assertions: 8-bit RGB or RGBA,
 * non-interlaced (what headless Chromium writes). The pixels are inflated
 * with the platform's DecompressionStream, so no dependency is needed.
 */

/** A decoded image: `rgba` holds 4 bytes per pixel, row by row. */
export interface Png {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Decodes `bytes`; throws on anything but 8-bit RGB/RGBA without interlacing. */
export async function decodePng(bytes: Uint8Array): Promise<Png> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => bytes[i] === b)) throw new Error("not a PNG file");
  let width = 0, height = 0, channels = 0;
  const idat: Uint8Array[] = [];
  for (let off = 8; off < bytes.length;) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(...bytes.subarray(off + 4, off + 8));
    const data = bytes.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = view.getUint32(off + 8);
      height = view.getUint32(off + 12);
      const [depth, color, , , interlace] = data.subarray(8, 13);
      if (depth !== 8 || (color !== 2 && color !== 6) || interlace !== 0) {
        throw new Error(`unsupported PNG (depth ${depth}, colour type ${color})`);
      }
      channels = color === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    off += 12 + len;
  }
  const raw = await inflate(idat);
  const stride = width * channels;
  const rgba = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.slice(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    unfilter(filter, line, prev, channels);
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      rgba[o] = line[x * channels];
      rgba[o + 1] = line[x * channels + 1];
      rgba[o + 2] = line[x * channels + 2];
      rgba[o + 3] = channels === 4 ? line[x * channels + 3] : 255;
    }
    prev = line;
  }
  return { width, height, rgba };
}

async function inflate(parts: Uint8Array[]): Promise<Uint8Array> {
  // Copies: a Blob takes ArrayBuffer-backed views only.
  const stream = new Blob(parts.map((p) => p.slice())).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Undoes one row's filter in place (PNG spec, section 9). */
function unfilter(filter: number, line: Uint8Array, prev: Uint8Array, bpp: number): void {
  for (let i = 0; i < line.length; i++) {
    const a = i >= bpp ? line[i - bpp] : 0;
    const b = prev[i];
    const c = i >= bpp ? prev[i - bpp] : 0;
    let add = 0;
    if (filter === 1) add = a;
    else if (filter === 2) add = b;
    else if (filter === 3) add = (a + b) >> 1;
    else if (filter === 4) {
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    } else if (filter !== 0) throw new Error(`bad PNG filter ${filter}`);
    line[i] = (line[i] + add) & 0xff;
  }
}
