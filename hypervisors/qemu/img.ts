/**
 * qemu-img, as the qemu builder uses it: create a disk (optionally on a
 * backing file), convert (compact, compress, change format), resize, and
 * read an image's facts (`info`) or health (`check`). Arguments follow
 * Packer's order, so a template's `qemu_img_args` land where Packer puts
 * them:
 *
 *     create  -f <format> [-b <backing> -F <backing format>] <create args> <path> <size>
 *     convert [-c] <convert args> -O <format> <source> <target>
 *     resize  -f <format> <resize args> <path> <size>
 *
 * A backing file always gets its format (`-F`): qemu-img 7.2 refuses
 * `-b` without it, which is why Packer 1.6.6's `use_backing_file` fails on
 * current qemu. Failures throw {@link QemuImgError}, naming the file and
 * quoting qemu-img.
 */

/** How to run qemu-img. */
export interface QemuImgRunOptions {
  /** The qemu-img binary (default "qemu-img"). */
  binary?: string;
  /** Aborting kills qemu-img (SIGTERM) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** qemu-img failed. */
export class QemuImgError extends Error {
  constructor(
    readonly operation: string,
    readonly file: string,
    readonly stderr: string,
    readonly exitCode: number,
    /** For convert: the image being written. */
    readonly target?: string,
  ) {
    const said = stderr.trim() || `exit code ${exitCode}`;
    super(`qemu-img ${operation} of ${file}${target ? ` into ${target}` : ""} failed: ${said}`);
    this.name = "QemuImgError";
  }

  /**
   * The image is locked by a running qemu (`Failed to get shared "write"
   * lock`): Packer retries conversion on this while qemu lets go of it.
   */
  get locked(): boolean {
    return /Failed to get (shared )?"write" lock/.test(this.stderr);
  }
}

/** `create`'s options. */
export interface CreateOptions extends QemuImgRunOptions {
  format: string;
  /** Size as qemu-img reads it ("40960M", "10G", bytes); may be omitted with a backing file. */
  size?: string;
  /** A backing file: the new image holds only what differs from it. */
  backingFile?: string;
  /** The backing file's format (default: what `info` says it is). */
  backingFormat?: string;
  /** [qemu_img_args.create]. */
  extraArgs?: readonly string[];
}

/** Creates a disk image at `path`. */
export async function createImage(path: string, options: CreateOptions): Promise<void> {
  const args = ["create", "-f", options.format];
  if (options.backingFile) {
    const backingFormat = options.backingFormat ??
      (await imageInfo(options.backingFile, options)).format;
    args.push("-b", options.backingFile, "-F", backingFormat);
  }
  args.push(...(options.extraArgs ?? []), path);
  if (options.size !== undefined) args.push(options.size);
  await run("create", path, args, options);
}

/** `convert`'s options. */
export interface ConvertOptions extends QemuImgRunOptions {
  /** Output format (`-O`). */
  format: string;
  /** Compress the output (`-c`; qcow2 only). */
  compress?: boolean;
  /** The source's format (`-f`), when it should not be probed. */
  sourceFormat?: string;
  /** Output format options (`-o`), e.g. { compression_type: "zstd" }. */
  outputOptions?: Record<string, string>;
  /** [qemu_img_args.convert], placed as Packer places them. */
  extraArgs?: readonly string[];
  /** Called with the percentage done as qemu-img reports it (`-p`). */
  onProgress?: (percent: number) => void;
}

/** Converts `source` into a new image `target`. */
export async function convertImage(
  source: string,
  target: string,
  options: ConvertOptions,
): Promise<void> {
  const args = ["convert"];
  if (options.compress) args.push("-c");
  if (options.onProgress) args.push("-p");
  if (options.sourceFormat) args.push("-f", options.sourceFormat);
  const o = Object.entries(options.outputOptions ?? {});
  if (o.length > 0) args.push("-o", o.map(([k, v]) => `${k}=${v}`).join(","));
  args.push(...(options.extraArgs ?? []), "-O", options.format, source, target);
  await run("convert", source, args, options, options.onProgress, target);
}

/** `resize`'s options. */
export interface ResizeOptions extends QemuImgRunOptions {
  format: string;
  /** Allow making it smaller (`--shrink`; data past the new end is lost). */
  shrink?: boolean;
  /** [qemu_img_args.resize]. */
  extraArgs?: readonly string[];
}

/** Resizes the image at `path` to `size` ("40960M", "+1G", bytes). */
export async function resizeImage(
  path: string,
  size: string,
  options: ResizeOptions,
): Promise<void> {
  const args = ["resize", "-f", options.format];
  if (options.shrink) args.push("--shrink");
  args.push(...(options.extraArgs ?? []), path, size);
  await run("resize", path, args, options);
}

/** What `qemu-img info` says of an image. */
export interface ImageInfo {
  filename: string;
  format: string;
  /** The guest-visible size in bytes. */
  virtualSize: number;
  /** Bytes the image takes on the host. */
  actualSize?: number;
  clusterSize?: number;
  backingFilename?: string;
  backingFormat?: string;
  /** The image was not closed cleanly (qcow2 with lazy refcounts). */
  dirty?: boolean;
  /** qemu-img's JSON as given. */
  raw: Record<string, unknown>;
}

/** Reads `qemu-img info --output=json`. */
export async function imageInfo(
  path: string,
  options: QemuImgRunOptions & { format?: string } = {},
): Promise<ImageInfo> {
  const args = ["info", "--output=json", ...(options.format ? ["-f", options.format] : []), path];
  const out = await run("info", path, args, options);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(out);
  } catch {
    throw new QemuImgError("info", path, `unreadable JSON from qemu-img: ${out.slice(0, 200)}`, 0);
  }
  return {
    filename: String(raw.filename),
    format: String(raw.format),
    virtualSize: Number(raw["virtual-size"]),
    ...(typeof raw["actual-size"] === "number" ? { actualSize: raw["actual-size"] } : {}),
    ...(typeof raw["cluster-size"] === "number" ? { clusterSize: raw["cluster-size"] } : {}),
    ...(typeof raw["backing-filename"] === "string"
      ? { backingFilename: raw["backing-filename"] }
      : {}),
    ...(typeof raw["backing-filename-format"] === "string"
      ? { backingFormat: raw["backing-filename-format"] }
      : {}),
    ...(typeof raw["dirty-flag"] === "boolean" ? { dirty: raw["dirty-flag"] } : {}),
    raw,
  };
}

/** What `qemu-img check` found. */
export interface ImageCheck {
  /** No corruption, no leaked cluster, the check completed. */
  ok: boolean;
  corruptions: number;
  leaks: number;
  checkErrors: number;
  raw: Record<string, unknown>;
}

/**
 * Runs `qemu-img check --output=json`. Exit codes 2 (corruptions) and 3
 * (leaked clusters) are findings, reported in the result; a check that
 * could not run throws.
 */
export async function checkImage(
  path: string,
  options: QemuImgRunOptions & { format?: string } = {},
): Promise<ImageCheck> {
  const args = ["check", "--output=json", ...(options.format ? ["-f", options.format] : []), path];
  const { code, stdout, stderr } = await exec(args, options);
  let raw: Record<string, unknown> | undefined;
  try {
    raw = JSON.parse(stdout);
  } catch {
    raw = undefined;
  }
  if (!raw || (code !== 0 && code !== 2 && code !== 3)) {
    throw new QemuImgError("check", path, stderr || stdout, code);
  }
  const n = (k: string) => typeof raw![k] === "number" ? raw![k] as number : 0;
  return {
    ok: code === 0 && n("corruptions") === 0 && n("leaks") === 0 && n("check-errors") === 0,
    corruptions: n("corruptions"),
    leaks: n("leaks"),
    checkErrors: n("check-errors"),
    raw,
  };
}

async function run(
  operation: string,
  file: string,
  args: string[],
  options: QemuImgRunOptions,
  onProgress?: (percent: number) => void,
  target?: string,
): Promise<string> {
  const { code, stdout, stderr } = await exec(args, options, onProgress);
  if (code !== 0) throw new QemuImgError(operation, file, stderr, code, target);
  return stdout;
}

const PROGRESS = /\((\d+(?:\.\d+)?)\/100%\)/g;

async function exec(
  args: string[],
  options: QemuImgRunOptions,
  onProgress?: (percent: number) => void,
): Promise<{ code: number; stdout: string; stderr: string }> {
  options.signal?.throwIfAborted();
  const binary = options.binary ?? "qemu-img";
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(binary, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "not found (install qemu-utils)"
      : err instanceof Error
      ? err.message
      : String(err);
    throw new QemuImgError(args[0], args.at(-1) ?? "", `cannot run ${binary}: ${why}`, -1);
  }
  const abort = () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
  };
  options.signal?.addEventListener("abort", abort, { once: true });
  try {
    const stderr = new Response(child.stderr).text();
    let stdout = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      if (onProgress) {
        const tail = stdout.slice(-32) + chunk;
        let last: number | undefined;
        for (const m of tail.matchAll(PROGRESS)) last = Number(m[1]);
        if (last !== undefined) onProgress(last);
      }
      stdout += chunk;
      if (onProgress && stdout.length > 65_536) stdout = stdout.slice(-1024);
    }
    const status = await child.status;
    options.signal?.throwIfAborted();
    return { code: status.code, stdout, stderr: (await stderr).trim() };
  } finally {
    options.signal?.removeEventListener("abort", abort);
  }
}
