/**
 * The source image (`iso_url`/`iso_urls` + `iso_checksum`), as Packer's
 * StepDownload gets it, made resumable:
 *
 * - URLs are tried in order; the first that yields a file with the right
 *   checksum wins, and the errors of the others are reported together.
 * - A local path or `file://` URL is used in place (never copied), after
 *   its checksum is checked. A mismatch never deletes the user's file.
 * - `http(s)://` downloads go to the cache, `PACKER_CACHE_DIR` (else
 *   `packer_cache` in the working directory, as Packer 1.6.6), under
 *   Packer's own name for them: the SHA-1 of the normalised checksum
 *   ("sha256:<hex>") — so the cache is content-addressed, and a file Packer
 *   downloaded is reused — or of the URL when the checksum is `none`; then
 *   `.iso` (`iso_target_extension`). A cached file whose checksum matches is
 *   used without any network access.
 * - The bytes arrive in `<name>.part`; after an interruption (a dropped
 *   connection here, or a killed kiln on the next run) the download resumes
 *   with an HTTP Range request. The file is renamed into place only once its
 *   checksum matches; a mismatch removes it.
 * - A lock file (`<name>.lock`, as Packer) keeps two builds from writing
 *   the same cache entry at once.
 */
import { createHash } from "node:crypto";
import { type Checksum, checksumText, hashFile, localPath, resolveChecksum } from "./checksum.ts";

/** Progress of one download, at most every `progressIntervalMs` and once at the end. */
export interface DownloadProgress {
  url: string;
  received: number;
  /** Total size when the server says; undefined otherwise. */
  total?: number;
  /** Bytes already in the `.part` file when this transfer started. */
  resumedFrom: number;
}

/** What to download and where. */
export interface DownloadOptions {
  urls: readonly string[];
  /** `iso_checksum` as written. */
  checksum: string;
  /** The template's directory, for relative paths. */
  cwd: string;
  cacheDir: string;
  /** `iso_target_path`. */
  targetPath?: string;
  /** `iso_target_extension`, default "iso". */
  extension?: string;
  onProgress?: (progress: DownloadProgress) => void;
  /** Human-readable lines ("Trying ...", "resuming at ..."), for the build's output. */
  onMessage?: (line: string) => void;
  signal?: AbortSignal;
  progressIntervalMs?: number;
  /** Give up on a transfer that receives nothing for this long (default 60 s); it is then resumed. */
  stallTimeoutMs?: number;
  /** Transfers to start for one URL before moving on (default 5); each resumes the last. */
  attempts?: number;
}

/** Where the image is. */
export interface DownloadResult {
  path: string;
  url: string;
  /** "in-place" (local file), "cache" (already cached), "downloaded". */
  source: "in-place" | "cache" | "downloaded";
  checksum?: Checksum;
  bytes: number;
}

/** The cache directory Packer 1.6.6 uses: PACKER_CACHE_DIR, else ./packer_cache. */
export function defaultCacheDir(env: { PACKER_CACHE_DIR?: string }, cwd: string): string {
  const dir = env.PACKER_CACHE_DIR;
  if (dir) return dir.startsWith("/") ? dir : `${cwd}/${dir}`;
  return `${cwd}/packer_cache`;
}

/** Packer's cache file name for an image. */
export function cacheTarget(
  url: string,
  checksum: Checksum | undefined,
  options: { cacheDir: string; targetPath?: string; extension?: string; cwd: string },
): string {
  const key = checksum ? checksumText(checksum) : url;
  const digest = createHash("sha1").update(key).digest("hex");
  const extension = (options.extension || "iso").toLowerCase();
  const target = options.targetPath;
  if (!target) return `${options.cacheDir}/${digest}.${extension}`;
  const absolute = target.startsWith("/") ? target : `${options.cwd}/${target}`;
  if (/\.[^/.]+$/.test(absolute)) return absolute;
  return `${absolute.replace(/\/*$/, "/")}${digest}.${options.extension ? extension : "iso"}`;
}

/** Gets the image from the first URL that works. */
export async function downloadImage(options: DownloadOptions): Promise<DownloadResult> {
  if (options.urls.length === 0) throw new Error("one of iso_url or iso_urls must be specified");
  const say = options.onMessage ?? (() => {});
  const checksum = await resolveChecksum(options.checksum, options.urls[0], { cwd: options.cwd })
    .catch((e) => {
      throw new Error(`iso_checksum ${JSON.stringify(options.checksum)}: ${e.message}`);
    });
  const errors: string[] = [];
  for (const url of options.urls) {
    options.signal?.throwIfAborted();
    say(`Trying ${url}`);
    try {
      const result = isRemote(url)
        ? await fromHttp(url, checksum, options)
        : await inPlace(url, checksum, options.cwd);
      say(`${url} => ${result.path}`);
      return result;
    } catch (e) {
      if (options.signal?.aborted) throw e;
      const message = e instanceof Error ? e.message : String(e);
      say(`Download failed: ${message}`);
      errors.push(`${url}: ${message}`);
    }
  }
  throw new Error(`error downloading ISO:\n  ${errors.join("\n  ")}`);
}

function isRemote(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

async function inPlace(
  url: string,
  checksum: Checksum | undefined,
  cwd: string,
): Promise<DownloadResult> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^file:\/\//i.test(url)) {
    throw new Error(`unsupported URL scheme (kiln fetches http, https, file:// and local paths)`);
  }
  const path = localPath(url, cwd);
  const info = await Deno.stat(path).catch((e) => {
    throw new Error(
      `source path error: ${e instanceof Deno.errors.NotFound ? "no such file" : e.message}`,
    );
  });
  if (!info.isFile) throw new Error(`source path must be a file`);
  if (checksum) await verify(path, checksum, "the file was left in place");
  return { path, url, source: "in-place", checksum, bytes: info.size };
}

async function fromHttp(
  url: string,
  checksum: Checksum | undefined,
  options: DownloadOptions,
): Promise<DownloadResult> {
  const target = cacheTarget(url, checksum, options);
  await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
  const lock = await Deno.open(`${target}.lock`, { create: true, write: true });
  try {
    await lock.lock(true);
    const existing = await Deno.stat(target).catch(() => undefined);
    if (existing?.isFile) {
      if (checksum) {
        if (await hashFile(target, checksum.type) === checksum.hex) {
          return { path: target, url, source: "cache", checksum, bytes: existing.size };
        }
        options.onMessage?.(
          `The cached ${target} does not match the checksum; downloading it again`,
        );
        await Deno.remove(target);
      } else {
        // With no checksum Packer keeps a cached file the server reports no larger than it.
        const size = await remoteSize(url, options.signal);
        if (size !== undefined && existing.size >= size) {
          return { path: target, url, source: "cache", bytes: existing.size };
        }
        await Deno.remove(target);
      }
    }
    const part = `${target}.part`;
    await transfer(url, part, options);
    if (checksum) {
      try {
        await verify(part, checksum, "the download was removed");
      } catch (e) {
        await Deno.remove(part).catch(() => {});
        throw e;
      }
    }
    await Deno.rename(part, target);
    return {
      path: target,
      url,
      source: "downloaded",
      checksum,
      bytes: (await Deno.stat(target)).size,
    };
  } finally {
    lock.close();
  }
}

async function verify(path: string, checksum: Checksum, consequence: string): Promise<void> {
  const actual = await hashFile(path, checksum.type);
  if (actual !== checksum.hex) {
    throw new Error(
      `checksum mismatch for ${path}: expected ${checksum.type} ${checksum.hex}, got ${actual}; ${consequence}`,
    );
  }
}

async function remoteSize(url: string, signal?: AbortSignal): Promise<number | undefined> {
  try {
    const response = await fetch(url, { method: "HEAD", signal });
    await response.body?.cancel();
    const length = response.headers.get("content-length");
    return response.ok && length !== null ? Number(length) : undefined;
  } catch {
    return undefined;
  }
}

/** Fills `part` from `url`, resuming what is already there, retrying after interruptions. */
async function transfer(url: string, part: string, options: DownloadOptions): Promise<void> {
  const attempts = options.attempts ?? 5;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    options.signal?.throwIfAborted();
    try {
      if (await transferOnce(url, part, options)) return;
      lastError = new Error("the server ended the transfer early");
    } catch (e) {
      if (options.signal?.aborted || e instanceof HttpStatusError) throw e;
      lastError = e;
    }
    const have = (await Deno.stat(part).catch(() => undefined))?.size ?? 0;
    options.onMessage?.(
      `The transfer of ${url} broke (${describe(lastError)}); resuming at byte ${have}`,
    );
  }
  throw new Error(`the transfer kept breaking after ${attempts} attempts: ${describe(lastError)}`);
}

/** One HTTP request; true when the file is complete. */
async function transferOnce(url: string, part: string, options: DownloadOptions): Promise<boolean> {
  const have = (await Deno.stat(part).catch(() => undefined))?.size ?? 0;
  const stall = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal;
  const stallMs = options.stallTimeoutMs ?? 60_000;
  let stallTimer = setTimeout(() => stall.abort(new Error(`no data for ${stallMs} ms`)), stallMs);
  const touch = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stall.abort(new Error(`no data for ${stallMs} ms`)), stallMs);
  };
  try {
    const response = await fetch(url, {
      headers: have > 0 ? { range: `bytes=${have}-` } : {},
      signal,
    });
    let offset = 0;
    let total: number | undefined;
    const length = response.headers.get("content-length");
    if (response.status === 206) {
      const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
      if (!m || Number(m[1]) !== have) {
        await response.body?.cancel();
        await Deno.remove(part).catch(() => {});
        throw new Error(`the server answered a resume with the wrong range; starting over`);
      }
      offset = have;
      total = m[2] === "*" ? undefined : Number(m[2]);
    } else if (response.status === 416 && have > 0) {
      // Nothing left to send: the part is complete (or the file shrank; the checksum will say).
      await response.body?.cancel();
      return true;
    } else if (response.status === 200) {
      total = length === null ? undefined : Number(length);
    } else {
      await response.body?.cancel();
      throw new HttpStatusError(`bad response code: ${response.status}`);
    }
    const file = await Deno.open(part, { create: true, write: true, truncate: offset === 0 });
    let received = offset;
    let lastReport = 0;
    const interval = options.progressIntervalMs ?? 250;
    const report = (force: boolean) => {
      const now = performance.now();
      if (!force && now - lastReport < interval) return;
      lastReport = now;
      options.onProgress?.({ url, received, total, resumedFrom: offset });
    };
    try {
      if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
      // Network chunks are small; writing them in 1 MiB batches halves the cost per byte.
      const batch = new Uint8Array(1024 * 1024);
      let filled = 0;
      const flush = async () => {
        for (let written = 0; written < filled;) {
          written += await file.write(batch.subarray(written, filled));
        }
        received += filled;
        filled = 0;
        report(false);
      };
      try {
        if (response.body) {
          for await (const chunk of response.body) {
            touch();
            for (let used = 0; used < chunk.length;) {
              const take = Math.min(chunk.length - used, batch.length - filled);
              batch.set(chunk.subarray(used, used + take), filled);
              filled += take;
              used += take;
              if (filled === batch.length) await flush();
            }
          }
        }
      } finally {
        // What arrived before a break is kept, so the next attempt resumes after it.
        await flush();
      }
    } finally {
      file.close();
      report(true);
    }
    return total === undefined || received >= total;
  } finally {
    clearTimeout(stallTimer);
  }
}

/** An HTTP answer that another attempt would not change. */
class HttpStatusError extends Error {}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
