/**
 * `qemu-img convert` throughput on 2 GiB images, the yardstick for kiln's
 * disk finalisation (the qemu builder's compaction/compression step must
 * stay within 1.1× of qemu-img alone): a sparse image (all holes) and a
 * non-sparse one (every byte written, random so it does not compress), as
 * raw → qcow2, qcow2 → qcow2 (Packer's compaction) and qcow2 → compressed
 * qcow2 (`disk_compression`). Each conversion runs `--runs` times (default
 * 2); the best wall time is reported, as MiB of guest disk per second.
 *
 *   deno run -A bench/qemu_img.ts [--runs N] [--dir DIR]
 *
 * Needs qemu-utils and about 8 GiB free in DIR (default: a temp directory).
 */
import { parseArgs } from "node:util";
import { convertImage, createImage, imageInfo } from "../hypervisors/qemu/img.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "2" }, dir: { type: "string" } },
});
const runs = Number(values.runs);
const dir = await Deno.makeTempDir({ dir: values.dir, prefix: "kiln-bench-qemu-img-" });
const SIZE = 2 * 1024 ** 3;

async function fillRandom(path: string): Promise<void> {
  const file = await Deno.open(path, { write: true });
  const chunk = new Uint8Array(4 * 1024 * 1024);
  for (let written = 0; written < SIZE; written += chunk.length) {
    for (let i = 0; i < chunk.length; i += 65536) {
      crypto.getRandomValues(chunk.subarray(i, i + 65536));
    }
    await file.write(chunk);
  }
  file.close();
}

async function best(label: string, source: string, format: string, compress = false) {
  let bestMs = Infinity;
  const target = `${dir}/out.${format}`;
  for (let i = 0; i < runs; i++) {
    await Deno.remove(target).catch(() => {});
    const t = performance.now();
    await convertImage(source, target, { format, compress });
    bestMs = Math.min(bestMs, performance.now() - t);
  }
  const out = await imageInfo(target);
  const mib = SIZE / 1024 ** 2;
  console.log(
    `${label.padEnd(44)} ${(bestMs / 1000).toFixed(2).padStart(7)} s ${
      (mib / (bestMs / 1000)).toFixed(0).padStart(7)
    } MiB/s   output ${((out.actualSize ?? 0) / 1024 ** 2).toFixed(0)} MiB`,
  );
  await Deno.remove(target);
}

try {
  console.log(`qemu-img convert, 2 GiB guest disk, best of ${runs} (${dir})`);
  await createImage(`${dir}/sparse.raw`, { format: "raw", size: String(SIZE) });
  await convertImage(`${dir}/sparse.raw`, `${dir}/sparse.qcow2`, { format: "qcow2" });
  await best("sparse raw → qcow2", `${dir}/sparse.raw`, "qcow2");
  await best("sparse qcow2 → qcow2 (compaction)", `${dir}/sparse.qcow2`, "qcow2");
  await best("sparse qcow2 → qcow2 -c (compression)", `${dir}/sparse.qcow2`, "qcow2", true);
  await best("sparse qcow2 → raw", `${dir}/sparse.qcow2`, "raw");

  await Deno.writeFile(`${dir}/full.raw`, new Uint8Array());
  await fillRandom(`${dir}/full.raw`);
  await convertImage(`${dir}/full.raw`, `${dir}/full.qcow2`, { format: "qcow2" });
  await best("non-sparse (random) raw → qcow2", `${dir}/full.raw`, "qcow2");
  await best("non-sparse qcow2 → qcow2 (compaction)", `${dir}/full.qcow2`, "qcow2");
  await best("non-sparse qcow2 → qcow2 -c (compression)", `${dir}/full.qcow2`, "qcow2", true);
  await best("non-sparse qcow2 → raw", `${dir}/full.qcow2`, "raw");
} finally {
  await Deno.remove(dir, { recursive: true });
}
