/**
 * The `manifest` post-processor: records each build's artifact in a JSON
 * file shaped exactly like Packer's (`builds[]` + `last_run_uuid`, two-space
 * indent). Entries accumulate across runs; `-force` starts the file afresh
 * once per run. `packer_run_uuid` is the run's UUID (PACKER_RUN_UUID), kept across resumes.
 */
import { basename, dirname, resolve } from "node:path";
import type { PostProcessContext, PostProcessorPlugin } from "./post_processor.ts";
import type { Artifact } from "../runtime/types.ts";
import { withFileLock } from "./file_lock.ts";

/** Packer's default output file. */
export const DEFAULT_MANIFEST_OUTPUT = "packer-manifest.json";

/** One file of a recorded artifact. */
export interface ManifestFile {
  name: string;
  size: number;
}

/** One build's entry, keys in Packer's order. */
export interface ManifestBuild {
  name: string;
  builder_type: string;
  /** Unix seconds; absent with strip_time. */
  build_time?: number;
  files: ManifestFile[] | null;
  artifact_id: string;
  packer_run_uuid: string;
  custom_data: Record<string, string> | null;
}

/** The whole manifest file. */
export interface Manifest {
  builds: ManifestBuild[];
  last_run_uuid: string;
}

/** Builds the entry for `artifact`. */
export async function manifestEntry(
  artifact: Artifact,
  facts: {
    buildName: string;
    builderType: string;
    runId: string;
    stripPath: boolean;
    stripTime: boolean;
    customData?: Record<string, string>;
    now?: Date;
  },
): Promise<ManifestBuild> {
  const files: ManifestFile[] = [];
  for (const file of artifact.files) {
    let size = 0;
    try {
      size = (await Deno.stat(file)).size;
    } catch {
      // Packer records 0 for a file it cannot stat.
    }
    files.push({ name: facts.stripPath ? basename(file) : file, size });
  }
  const entry: ManifestBuild = {
    name: facts.buildName,
    builder_type: facts.builderType,
    build_time: Math.floor((facts.now ?? new Date()).getTime() / 1000),
    files: files.length > 0 ? files : null,
    artifact_id: artifact.id,
    packer_run_uuid: facts.runId,
    custom_data: facts.customData && Object.keys(facts.customData).length > 0
      ? facts.customData
      : null,
  };
  // Go's omitempty drops a zero build_time.
  if (facts.stripTime) delete entry.build_time;
  return entry;
}

/** Reads a manifest; an absent or empty file is an empty manifest. */
export async function readManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { builds: [], last_run_uuid: "" };
    throw new Error(`Unable to open ${path} for reading: ${(err as Error).message}`);
  }
  if (text.trim() === "") return { builds: [], last_run_uuid: "" };
  try {
    const parsed = JSON.parse(text) as Partial<Manifest>;
    return {
      builds: Array.isArray(parsed.builds) ? parsed.builds : [],
      last_run_uuid: typeof parsed.last_run_uuid === "string" ? parsed.last_run_uuid : "",
    };
  } catch (err) {
    throw new Error(`Unable to parse content from ${path}: ${(err as Error).message}`);
  }
}

/** The same artifact recorded again by the same run (a resumed run re-doing this step). */
function sameRecord(a: ManifestBuild, b: ManifestBuild): boolean {
  const { build_time: _a, ...restA } = a;
  const { build_time: _b, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}

/**
 * Adds `entry` to the manifest at `path`: truncated first when `force` and
 * the file was last written by another run; an identical entry of the same
 * run is replaced rather than duplicated.
 */
export async function appendToManifest(
  path: string,
  entry: ManifestBuild,
  force: boolean,
): Promise<Manifest> {
  return await withFileLock(resolve(path), async () => {
    let manifest = await readManifest(path);
    if (force && manifest.last_run_uuid !== entry.packer_run_uuid) {
      manifest = { builds: [], last_run_uuid: "" };
    }
    const again = manifest.builds.findIndex((b) =>
      b.packer_run_uuid === entry.packer_run_uuid && sameRecord(b, entry)
    );
    if (again >= 0) manifest.builds.splice(again, 1);
    manifest.builds.push(entry);
    manifest.last_run_uuid = entry.packer_run_uuid;
    await requireDirectory(path);
    // Write then rename: a crash never leaves a half-written manifest.
    const tmp = tempOf(path, entry.packer_run_uuid);
    await Deno.remove(tmp).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
    await Deno.writeTextFile(tmp, JSON.stringify(manifest, null, 2), {
      mode: 0o664,
      createNew: true,
    });
    await Deno.rename(tmp, path);
    return manifest;
  });
}

/**
 * Packer 1.6.6 does not create the output's directory: the post-processor
 * fails, and with it the build, saying which file it could not write.
 */
async function requireDirectory(path: string): Promise<void> {
  const dir = dirname(resolve(path));
  let isDir = false;
  try {
    isDir = (await Deno.stat(dir)).isDirectory;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (!isDir) {
    throw new Error(
      `Unable to write ${path}: open ${path}: no such file or directory ` +
        `(the directory ${dir} does not exist; the manifest post-processor does not create it)`,
    );
  }
}

/**
 * Where the manifest is written before it is renamed into place: named
 * after the run and created exclusively (a planted symlink is never
 * written through).
 */
function tempOf(path: string, runId: string): string {
  return `${path}.kiln-${runId}.tmp`;
}

function manifestOutput(ctx: PostProcessContext, config: Record<string, unknown>): string {
  const data = { BuildName: ctx.buildName, BuilderType: ctx.builderType };
  return ctx.render(String(config.output || DEFAULT_MANIFEST_OUTPUT), data);
}

/** The manifest post-processor plugin. */
export const manifestPostProcessor: PostProcessorPlugin = {
  type: "manifest",
  schema: {
    pluginType: "packer.post-processor.manifest",
    fields: {
      output: {
        type: "string",
        late: true,
        default: DEFAULT_MANIFEST_OUTPUT,
        doc: "manifest file; {{.BuildName}} and {{.BuilderType}} may be used",
      },
      strip_path: { type: "bool", default: false, doc: "record file names without directories" },
      strip_time: { type: "bool", default: false, doc: "leave build_time out" },
      custom_data: { type: "string_map", doc: "extra key/values recorded with the build" },
    },
  },
  outputs(ctx, config) {
    return [manifestOutput(ctx, config)];
  },
  scratch(ctx, config) {
    const output = manifestOutput(ctx, config);
    return [tempOf(output, ctx.runId), `${resolve(output)}.lock`];
  },
  async postProcess(ctx, config, input) {
    const output = manifestOutput(ctx, config);
    const entry = await manifestEntry(input, {
      buildName: ctx.buildName,
      builderType: ctx.builderType,
      runId: ctx.runUuid ?? ctx.runId,
      stripPath: config.strip_path === true,
      stripTime: config.strip_time === true,
      customData: config.custom_data as Record<string, string> | undefined,
    });
    await appendToManifest(output, entry, ctx.force);
    return { artifact: input, keep: true, forceOverride: true };
  },
};
