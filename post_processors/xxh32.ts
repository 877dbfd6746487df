/**
 * xxHash32 (seed 0), one-shot and streaming: the LZ4 frame format uses it
 * for the descriptor checksum and the content checksum that lets `lz4 -d`
 * verify an archive end to end.
 */

const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f, P5 = 0x165667b1;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const round = (v: number, lane: number) => Math.imul(rotl((v + Math.imul(lane, P2)) | 0, 13), P1);

/** Incremental xxHash32: `update` any number of times, then `digest`. */
export class Xxh32 {
  #v = [(P1 + P2) | 0, P2, 0, -P1 | 0];
  #buffer = new Uint8Array(16);
  #buffered = 0;
  #total = 0;

  /** Adds bytes. */
  update(data: Uint8Array): this {
    this.#total += data.length;
    let i = 0;
    if (this.#buffered > 0) {
      const n = Math.min(16 - this.#buffered, data.length);
      this.#buffer.set(data.subarray(0, n), this.#buffered);
      this.#buffered += n;
      i = n;
      if (this.#buffered < 16) return this;
      this.#stripe(this.#buffer, 0);
      this.#buffered = 0;
    }
    for (; i + 16 <= data.length; i += 16) this.#stripe(data, i);
    this.#buffer.set(data.subarray(i), 0);
    this.#buffered = data.length - i;
    return this;
  }

  /** The hash of everything added so far. */
  digest(): number {
    const [v1, v2, v3, v4] = this.#v;
    let h = this.#total >= 16 ? (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0 : P5;
    h = (h + this.#total) | 0;
    const rest = this.#buffer.subarray(0, this.#buffered);
    const view = new DataView(rest.buffer, rest.byteOffset, rest.byteLength);
    let i = 0;
    for (; i + 4 <= rest.length; i += 4) {
      h = Math.imul(rotl((h + Math.imul(view.getUint32(i, true), P3)) | 0, 17), P4);
    }
    for (; i < rest.length; i++) h = Math.imul(rotl((h + Math.imul(rest[i], P5)) | 0, 11), P1);
    h = Math.imul(h ^ (h >>> 15), P2);
    h = Math.imul(h ^ (h >>> 13), P3);
    return (h ^ (h >>> 16)) >>> 0;
  }

  #stripe(data: Uint8Array, at: number): void {
    const view = new DataView(data.buffer, data.byteOffset + at, 16);
    for (let lane = 0; lane < 4; lane++) {
      this.#v[lane] = round(this.#v[lane], view.getUint32(lane * 4, true));
    }
  }
}

/** xxHash32 of `data` with seed 0. */
export function xxh32(data: Uint8Array): number {
  return new Xxh32().update(data).digest();
}
