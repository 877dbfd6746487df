/**
 * Packer's disk conversion: unless `skip_compaction` (implied by raw and
 * by `use_backing_file`) and without `disk_compression`, the finished disk
 * is rewritten by `qemu-img convert` (sparse, compressed with `-c`) into
 * `<disk>.convert`, which then replaces it. A conversion interrupted by a
 * crash starts over; the original is replaced only once the copy is whole.
 */
import type { Step, StepContext } from "../../runtime/types.ts";
import type { QemuConfig } from "./config.ts";
import { convertImage, QemuImgError } from "../../hypervisors/qemu/img.ts";
import { sleep } from "../../runtime/sleep.ts";
import { type ConvertOutput, type DiskOutput, outputOf, QEMU_STEP } from "./outputs.ts";

const LOCK_RETRY_MS = 1_000;
/** Packer retries while qemu still holds the image's lock, for up to 3 minutes. */
const LOCK_PATIENCE_MS = 180_000;

/** Whether the builder rewrites the disk at the end. */
export function convertsDisk(c: QemuConfig): boolean {
  return !c.skip_compaction || c.disk_compression;
}

async function convertOnce(ctx: StepContext, c: QemuConfig, disk: string, target: string) {
  let reported = -10;
  await convertImage(disk, target, {
    format: c.format,
    compress: c.disk_compression,
    extraArgs: c.qemu_img_args.convert,
    signal: ctx.signal,
    onProgress: (percent) => {
      if (percent >= reported + 10) {
        reported = Math.floor(percent / 10) * 10;
        ctx.ui.message(`Converting hard drive: ${reported}%`);
      }
    },
  });
}

/** Compacts (and compresses) the disk. */
export function convertStep(): Step<ConvertOutput> {
  return {
    id: QEMU_STEP.convert,
    async run(ctx) {
      const c = ctx.config as unknown as QemuConfig;
      const disk = outputOf<DiskOutput>(ctx, QEMU_STEP.disk).disks[0];
      const target = `${disk}.convert`;
      await Deno.remove(target).catch(() => {});
      ctx.ui.say(`Converting hard drive...`);
      const end = Date.now() + LOCK_PATIENCE_MS;
      for (;;) {
        try {
          await convertOnce(ctx, c, disk, target);
          break;
        } catch (err) {
          await Deno.remove(target).catch(() => {});
          if (!(err instanceof QemuImgError && err.locked) || Date.now() > end) throw err;
          ctx.ui.message("The disk is still locked by qemu; retrying...");
          await sleep(LOCK_RETRY_MS, ctx.signal);
        }
      }
      await Deno.rename(target, disk);
      return { disk, converted: true };
    },
  };
}
