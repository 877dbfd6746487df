/**
 * The `checksum` post-processor: one checksum file per type, each line
 * `<hex>\t<file name>` (the format `sha256sum -c` reads), appended to an
 * existing file as Packer does. The artifact becomes the input files plus
 * the checksum files it created; the input is always kept.
 */
import { createHash } from "node:crypto";
import { basename, dirname } from "node:path";
import type { PostProcessorPlugin } from "./post_processor.ts";
import { fileListArtifact } from "./artifice.ts";

/** The checksum post-processor's artifact id. */
export const CHECKSUM_BUILDER_ID = "packer.post-processor.checksum";

/** The hash types Packer offers. */
export const CHECKSUM_TYPES = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"] as const;

/** Packer's default output name. */
export const DEFAULT_CHECKSUM_OUTPUT =
  "packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum";

/** Hashes a file without reading it into memory at once. */
export async function hashFile(type: string, path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash(type);
  using file = await Deno.open(path);
  const buf = new Uint8Array(1 << 20);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    signal?.throwIfAborted();
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The checksum post-processor plugin. */
export const checksumPostProcessor: PostProcessorPlugin = {
  type: "checksum",
  schema: {
    fields: {
      checksum_types: { type: "string_list", doc: CHECKSUM_TYPES.join(", ") + "; default md5" },
      output: {
        type: "string",
        late: true,
        default: DEFAULT_CHECKSUM_OUTPUT,
        doc: "checksum file name; {{.BuildName}}, {{.BuilderType}}, {{.ChecksumType}}",
      },
    },
    check(config, report) {
      const types = config.checksum_types;
      if (!Array.isArray(types)) return;
      for (const t of types) {
        if (!(CHECKSUM_TYPES as readonly string[]).includes(String(t))) {
          report("checksum_types", `Unrecognized checksum type: ${t}`);
        }
      }
    },
  },
  async postProcess(ctx, config, input) {
    const types = (config.checksum_types as string[] | undefined) ?? [];
    const output = String(config.output || DEFAULT_CHECKSUM_OUTPUT);
    const files = [...input.files];
    // Without input files Packer writes nothing at all (not even an empty file).
    for (const type of input.files.length > 0 ? (types.length > 0 ? types : ["md5"]) : []) {
      const data = { BuildName: ctx.buildName, BuilderType: ctx.builderType, ChecksumType: type };
      const target = ctx.render(output, data);
      // Packer lists the checksum file only when this run created it.
      if (!await exists(target)) files.push(target);
      await Deno.mkdir(dirname(target), { recursive: true, mode: 0o755 });
      let lines = "";
      for (const file of input.files) {
        lines += `${await hashFile(type, file, ctx.signal)}\t${basename(file)}\n`;
      }
      // One append per type keeps the file whole if the build is interrupted mid-hash.
      await Deno.writeTextFile(target, lines, { append: true, mode: 0o644 });
    }
    return {
      artifact: fileListArtifact(CHECKSUM_BUILDER_ID, files),
      keep: true,
      forceOverride: true,
    };
  },
};
