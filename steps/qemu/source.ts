/**
 * Packer's download step for the qemu builder: the ISO (or, with
 * `disk_image`, the disk image) from the first of `iso_urls` that works —
 * a local path or `file://` URL is used in place, http(s) is downloaded
 * into the cache (`PACKER_CACHE_DIR`, else ./packer_cache), resumed from
 * its `.part` file after an interruption, and verified against
 * `iso_checksum`. The cache outlives the run, so it is no ledger resource;
 * what was fetched, from where, is logged (`ImageFetched`).
 */
import { resolve } from "node:path";
import type { Step } from "../../runtime/types.ts";
import { defaultCacheDir, downloadImage } from "../../hypervisors/qemu/download.ts";
import { checksumText } from "../../hypervisors/qemu/checksum.ts";
import type { QemuConfig } from "./config.ts";
import { QEMU_STEP, type SourceOutput } from "./outputs.ts";

const PROGRESS_EVERY_MS = 5_000;

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** Fetches and verifies the image the build boots. */
export function sourceStep(): Step<SourceOutput> {
  return {
    id: QEMU_STEP.source,
    async run(ctx) {
      const c = ctx.config as unknown as QemuConfig;
      const cwd = Deno.cwd();
      ctx.ui.say(`Retrieving ${c.disk_image ? "disk image" : "ISO"}`);
      const result = await downloadImage({
        urls: c.iso_urls,
        checksum: c.iso_checksum,
        cwd,
        cacheDir: defaultCacheDir({ PACKER_CACHE_DIR: Deno.env.get("PACKER_CACHE_DIR") }, cwd),
        targetPath: c.iso_target_path,
        extension: c.iso_target_extension,
        signal: ctx.signal,
        progressIntervalMs: PROGRESS_EVERY_MS,
        onMessage: (line) => ctx.ui.message(line),
        onProgress: (p) => {
          const of = p.total ? ` of ${mib(p.total)}` : "";
          ctx.ui.message(`${p.url}: ${mib(p.received)}${of}`);
        },
      });
      const path = resolve(cwd, result.path);
      await ctx.emit("ImageFetched", {
        url: result.url,
        path,
        source: result.source,
        bytes: result.bytes,
        ...(result.checksum ? { checksum: checksumText(result.checksum) } : {}),
      });
      return { path, url: result.url, source: result.source, bytes: result.bytes };
    },
  };
}
