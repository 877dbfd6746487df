/**
 * The `checksum` post-processor: one checksum file per type, each line
 * `<hex>\t<file name>` (the format `sha256sum -c` reads), appended to an
 * existing file as Packer does. The artifact becomes the input files plus
 * the checksum files it created; the input is always kept.
 */
import { createHash } from "node:crypto";
import { basename, dirname } from "node:path";
import type { PostProcessContext, PostProcessorPlugin } from "./post_processor.ts";
import type { Artifact } from "../runtime/types.ts";
import { fileListArtifact } from "./artifice.ts";
import { exists } from "../runtime/fs.ts";

/** The checksum post-processor's artifact id. */
export const CHECKSUM_BUILDER_ID = "packer.post-processor.checksum";

/** The hash types Packer offers. */
export const CHECKSUM_TYPES = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"] as const;

/** Packer's default output name. */
export const DEFAULT_CHECKSUM_OUTPUT =
  "packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum";

/**
 * Hashes a file with every algorithm in `types` in one pass, without reading
 * it into memory at once; returns hex digests by type.
 */
export async function hashFile(
  types: readonly string[],
  path: string,
  signal?: AbortSignal,
): Promise<Record<string, string>> {
  const hashes = types.map((type) => createHash(type));
  using file = await Deno.open(path).catch((err) => {
    throw new Error(`unable to open file ${path}: ${reason(err)}`);
  });
  const buf = new Uint8Array(1 << 20);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    signal?.throwIfAborted();
    for (const hash of hashes) hash.update(buf.subarray(0, n));
  }
  return Object.fromEntries(types.map((type, i) => [type, hashes[i].digest("hex")]));
}

/** An OS error without Deno's "(os error N)" decoration. */
function reason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.message.replace(/ \(os error \d+\)/, "").replace(/: \w+ '[^']*'$/, "");
}

/** The types hashed for `input`: none without input files (Packer writes nothing then). */
function checksumTypes(config: Record<string, unknown>, input: Artifact): string[] {
  const types = (config.checksum_types as string[] | undefined) ?? [];
  return input.files.length === 0 ? [] : types.length > 0 ? types : ["md5"];
}

function checksumTarget(
  ctx: PostProcessContext,
  config: Record<string, unknown>,
  type: string,
): string {
  const data = { BuildName: ctx.buildName, BuilderType: ctx.builderType, ChecksumType: type };
  return ctx.render(String(config.output || DEFAULT_CHECKSUM_OUTPUT), data);
}

/** The checksum post-processor plugin. */
export const checksumPostProcessor: PostProcessorPlugin = {
  type: "checksum",
  schema: {
    pluginType: "checksum",
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
  outputs(ctx, config, input) {
    return checksumTypes(config, input).map((type) => checksumTarget(ctx, config, type));
  },
  async postProcess(ctx, config, input) {
    const files = [...input.files];
    const wanted = checksumTypes(config, input);
    const digests: Record<string, string>[] = [];
    for (const file of input.files) digests.push(await hashFile(wanted, file, ctx.signal));
    for (const type of wanted) {
      const target = checksumTarget(ctx, config, type);
      // Packer lists the checksum file only when this run created it.
      if (!await exists(target)) files.push(target);
      await Deno.mkdir(dirname(target), { recursive: true, mode: 0o755 });
      const lines = input.files.map((file, i) => `${digests[i][type]}\t${basename(file)}\n`);
      // One append per type keeps the file whole if the build is interrupted mid-hash.
      await Deno.writeTextFile(target, lines.join(""), { append: true, mode: 0o644 });
    }
    return {
      artifact: fileListArtifact(CHECKSUM_BUILDER_ID, files),
      keep: true,
      forceOverride: true,
    };
  },
};
