/**
 * The `compress` post-processor: packs the artifact's files into one archive
 * (.tar.gz/.tgz, .tar, .zip, .tar.lz4, .tar.bgzf, .tar.xz) or compresses its
 * single file (.gz, .lz4, .bgzf, .xz), streaming every byte. The archive is written under a temporary name
 * and renamed when complete, so an interrupted build never leaves a
 * truncated archive under the final name.
 */
import { dirname } from "node:path";
import type { PostProcessContext, PostProcessorPlugin } from "./post_processor.ts";
import type { Ui } from "../runtime/types.ts";
import { type CompressFormat, detectFormat } from "./compress_format.ts";
import { tarEntries, tarStream } from "./tar.ts";
import { partialOf, writeAtomically } from "./atomic_output.ts";

/** The compress post-processor's artifact id. */
export const COMPRESS_BUILDER_ID = "packer.post-processor.compress";

/** Packer's default output name (no extension: a .tar.gz under this exact name). */
export const DEFAULT_COMPRESS_OUTPUT = "packer_{{.BuildName}}_{{.BuilderType}}";

/** Packer's message for a level out of range. */
const BAD_LEVEL = "Invalid compression level. Expected an integer from -1 to 9.";

/** Packer's rule: above 9 means 9, 0 and -1 mean the default (6). */
export function effectiveLevel(level: unknown): number {
  const n = typeof level === "number" ? level : 6;
  if (n > 9) return 9;
  if (n === 0 || n === -1) return 6;
  return n;
}

async function* readFile(path: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path).catch((err) => {
    throw new Error(`Failed to open source file ${path} for reading: ${(err as Error).message}`);
  });
  const buf = new Uint8Array(1 << 20);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    signal?.throwIfAborted();
    yield buf.slice(0, n);
  }
}

/** The bytes of the archive for `files` in `format`. */
export function archiveStream(
  files: readonly string[],
  format: CompressFormat,
  level: number,
  ui: Ui,
  target: string,
  signal?: AbortSignal,
): AsyncIterable<Uint8Array> {
  const compression = format.algorithm ?? "no compression";
  if (format.archive === "zip") {
    ui.say(`Zipping ${target}`);
    return lazily(async () => (await import("./zip_stream.ts")).zipStream(files, level, signal));
  }
  if (format.algorithm) ui.say(`Using ${format.algorithm} compression for ${target}`);
  let raw: AsyncIterable<Uint8Array>;
  if (format.archive === "tar") {
    ui.say(`Tarring ${target} with ${compression}`);
    raw = tarStream(tarEntries(files), signal);
  } else {
    if (files.length !== 1) {
      throw new Error(
        `Can only have 1 input file when not using tar/zip. Found ${files.length} files: [${
          files.join(" ")
        }]`,
      );
    }
    ui.say(`Archiving ${files[0]} with ${compression}`);
    raw = readFile(files[0], signal);
  }
  const input = raw;
  if (format.algorithm === "gzip") {
    return lazily(async () => (await import("./gzip_stream.ts")).gzipStream(input, level));
  }
  if (format.algorithm === "lz4") {
    return lazily(async () => (await import("./lz4_frame.ts")).lz4Frame(input));
  }
  if (format.algorithm === "bgzf") {
    return lazily(async () => (await import("./bgzf_stream.ts")).bgzfStream(input, level));
  }
  if (format.algorithm === "xz") {
    return lazily(async () => (await import("./xz_stream.ts")).xzStream(input, level));
  }
  return raw;
}

/** Encoders load on first use, so validating a template with compress stays light. */
async function* lazily(
  load: () => Promise<AsyncIterable<Uint8Array>>,
): AsyncIterable<Uint8Array> {
  yield* await load();
}

function compressTarget(ctx: PostProcessContext, config: Record<string, unknown>): string {
  const data = { BuildName: ctx.buildName, BuilderType: ctx.builderType };
  return ctx.render(String(config.output || DEFAULT_COMPRESS_OUTPUT), data);
}

function checkCompress(
  config: Record<string, unknown>,
  report: (key: string, message: string) => void,
): void {
  const level = config.compression_level;
  if (typeof level === "number" && level < -1) report("compression_level", BAD_LEVEL);
}

/** The compress post-processor plugin. */
export const compressPostProcessor: PostProcessorPlugin = {
  type: "compress",
  schema: {
    pluginType: "compress",
    fields: {
      output: {
        type: "string",
        late: true,
        default: DEFAULT_COMPRESS_OUTPUT,
        doc: "archive path; its extension picks the format; {{.BuildName}}, {{.BuilderType}}",
      },
      format: { type: "string", doc: "format instead of the output's extension, e.g. zip" },
      compression_level: { type: "int", default: 6, doc: "1 (fast) to 9 (small)" },
    },
    check: checkCompress,
  },
  outputs(ctx, config) {
    return [compressTarget(ctx, config)];
  },
  scratch(ctx, config) {
    return [partialOf(compressTarget(ctx, config), ctx)];
  },
  async postProcess(ctx, config, input) {
    const target = compressTarget(ctx, config);
    const formatName = typeof config.format === "string" && config.format !== ""
      ? config.format
      : undefined;
    const format = detectFormat(target, formatName);
    const level = effectiveLevel(config.compression_level);
    await Deno.mkdir(dirname(target), { recursive: true, mode: 0o755 }).catch((err) => {
      throw new Error(`Unable to create dir for archive ${target}: ${err.message}`);
    });
    const bytes = archiveStream(input.files, format, level, ctx.ui, target, ctx.signal);
    await writeAtomically(target, partialOf(target, ctx), bytes);
    ctx.ui.say(`Archive ${target} completed`);
    return {
      artifact: {
        builderId: COMPRESS_BUILDER_ID,
        id: "",
        files: [target],
        description: `compressed artifacts in: ${target}`,
      },
      keep: false,
    };
  },
};
