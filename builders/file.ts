/**
 * The `file` builder: writes `content`, or copies `source`, to `target`
 * (creating missing directories), then runs the provisioners without a
 * connection, as Packer's. The target is the artifact, and a ledger
 * resource: a build that fails afterwards deletes it, as does `kiln cleanup`.
 */
import { dirname, resolve } from "node:path";
import type { BuilderPlugin } from "./builder.ts";
import type { ResourceHandler, Step } from "../runtime/types.ts";
import { provisionStep } from "../steps/common/provision.ts";

/** The file artifact's builder id (Packer's). */
export const FILE_BUILDER_ID = "packer.file";

/** The step id of the write. */
export const FILE_STEP_ID = "file.target";

/** The ledger kind of the target file. */
export const FILE_RESOURCE = "file";

/** What the write step records. */
export interface FileTargetOutput {
  /** The target as configured (the artifact's file). */
  target: string;
  /** Absolute path (what the ledger deletes). */
  path: string;
  bytes: number;
}

/** Copies `source` to `target` in chunks; returns the byte count. */
async function copyFile(source: string, target: string, signal: AbortSignal): Promise<number> {
  using from = await Deno.open(source);
  using to = await Deno.open(target, { write: true, create: true, truncate: true });
  const buf = new Uint8Array(1 << 20);
  let total = 0;
  for (let n = await from.read(buf); n !== null; n = await from.read(buf)) {
    signal.throwIfAborted();
    let off = 0;
    while (off < n) off += await to.write(buf.subarray(off, n));
    total += n;
  }
  return total;
}

function fileStep(): Step<FileTargetOutput> {
  return {
    id: FILE_STEP_ID,
    async run(ctx) {
      const target = String(ctx.config.target);
      const path = resolve(target);
      const source = typeof ctx.config.source === "string" ? ctx.config.source : "";
      await ctx.intent({ kind: FILE_RESOURCE, token: path, data: { path } });
      const dir = dirname(target);
      if (dir !== ".") await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
      let bytes: number;
      if (source !== "") {
        ctx.ui.say(`Copying ${source} to ${target}`);
        try {
          bytes = await copyFile(source, target, ctx.signal);
        } catch (err) {
          if (err instanceof Deno.errors.NotFound) {
            throw new Error(`open ${source}: no such file or directory`);
          }
          throw err;
        }
        ctx.ui.say(`Copied ${bytes} bytes`);
      } else {
        const content = new TextEncoder().encode(String(ctx.config.content ?? ""));
        await Deno.writeFile(target, content, { mode: 0o600 });
        bytes = content.length;
      }
      await ctx.created({ kind: FILE_RESOURCE, id: path, data: { path } });
      return { target, path, bytes };
    },
    /**
     * After a crash mid-write the target may exist, complete or not: it joins
     * the ledger (so `kiln cleanup` deletes it) and the write runs again,
     * which is idempotent.
     */
    async reconcile(ctx, intents) {
      for (const intent of intents) {
        if (intent.kind !== FILE_RESOURCE) continue;
        const path = String(intent.data?.path ?? intent.token);
        try {
          await Deno.lstat(path);
        } catch {
          continue;
        }
        await ctx.created({ kind: FILE_RESOURCE, id: path, data: { path } });
      }
      return undefined;
    },
  };
}

/** Deletes a target file; an absent file counts as deleted. */
export const fileResource: ResourceHandler = {
  async delete(ctx, resource) {
    const path = String(resource.data?.path ?? resource.id);
    try {
      await Deno.remove(path);
      ctx.ui.say(`Deleted ${path}`);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  },
};

/** The file builder plugin. */
export const fileBuilder: BuilderPlugin = {
  type: "file",
  schema: {
    fields: {
      target: { type: "string", doc: "path of the artifact file to create" },
      source: { type: "string", doc: "file copied to target" },
      content: { type: "string", doc: "text written to target" },
    },
    check(config, report) {
      if (typeof config.target !== "string" || config.target === "") {
        report("target", "target required");
      }
      const has = (k: string) => typeof config[k] === "string" && config[k] !== "";
      if (has("source") && has("content")) {
        report("", "Cannot specify source file AND content");
      }
    },
  },
  steps: () => [fileStep(), provisionStep()],
  artifact: (state) => {
    const out = state[FILE_STEP_ID] as FileTargetOutput | undefined;
    if (!out) return undefined;
    return {
      builderId: FILE_BUILDER_ID,
      id: "File",
      files: [out.target],
      description: `Stored file: ${out.target}`,
    };
  },
  resources: { [FILE_RESOURCE]: fileResource },
};
