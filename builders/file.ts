/**
 * The `file` builder: writes `content`, or copies `source`, to `target`
 * (creating missing directories), then runs the provisioners without a
 * connection, as Packer's. The target is the artifact, and a ledger
 * resource when this run created it: a build that fails afterwards deletes
 * it, as does `kiln cleanup`. A target that existed before the run is
 * overwritten, as Packer does, but never claimed, so never deleted.
 *
 * The bytes go to a partial file named after the run, renamed over the
 * target when complete; its identity is logged before the rename. After a
 * crash, "pre-existing or ours" is then decidable: the intent says whether
 * the target existed, and a target with the logged identity is the run's.
 */
import { basename, dirname, join, resolve } from "node:path";
import type { BuilderPlugin } from "./builder.ts";
import type { ResourceHandler, Step, StepContext } from "../runtime/types.ts";
import { provisionStep } from "../steps/common/provision.ts";
import { identityOf, parseIdentity, sameIdentity } from "../runtime/local_identity.ts";
import { localPathHandler, madeRecord } from "../runtime/local_path_resource.ts";

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
  /** The target existed before the run: overwritten, never the run's to delete. */
  preexisting?: boolean;
}

/** Where the target is written before it is renamed into place (beside it, so rename is atomic). */
export function partialPath(target: string, runId: string): string {
  return join(dirname(target), `.${basename(target)}.kiln-${runId}`);
}

/** Copies the open `from` to the new file `to` in chunks; returns the byte count. */
async function copyFile(from: Deno.FsFile, to: string, signal: AbortSignal): Promise<number> {
  using out = await Deno.open(to, { write: true, createNew: true });
  const buf = new Uint8Array(1 << 20);
  let total = 0;
  for (let n = await from.read(buf); n !== null; n = await from.read(buf)) {
    signal.throwIfAborted();
    let off = 0;
    while (off < n) off += await out.write(buf.subarray(off, n));
    total += n;
  }
  return total;
}

/** Writes the target's bytes to `partial` (a new file); returns the byte count. */
async function writePartial(ctx: StepContext, partial: string): Promise<number> {
  const source = typeof ctx.config.source === "string" ? ctx.config.source : "";
  if (source !== "") {
    // As Packer: a missing source fails before anything is said or written.
    using from = await Deno.open(source).catch((err) => {
      if (err instanceof Deno.errors.NotFound) {
        throw new Error(`open ${source}: no such file or directory`);
      }
      throw err;
    });
    ctx.ui.say(`Copying ${source} to ${String(ctx.config.target)}`);
    const bytes = await copyFile(from, partial, ctx.signal);
    ctx.ui.say(`Copied ${bytes} bytes`);
    return bytes;
  }
  const content = new TextEncoder().encode(String(ctx.config.content ?? ""));
  await Deno.writeFile(partial, content, { mode: 0o600, createNew: true });
  return content.length;
}

async function removeIfThere(path: string): Promise<void> {
  await Deno.remove(path).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}

function fileStep(): Step<FileTargetOutput> {
  return {
    id: FILE_STEP_ID,
    async run(ctx) {
      const target = String(ctx.config.target);
      const path = resolve(target);
      const partial = partialPath(path, ctx.runId);
      const before = await identityOf(path);
      const intent = { path, partial, preexisting: before ?? false };
      await ctx.intent({ kind: FILE_RESOURCE, token: path, data: intent });
      const dir = dirname(target);
      if (dir !== ".") await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
      // Left by an attempt of this run that failed before it could remove it.
      await removeIfThere(partial);
      let bytes: number;
      try {
        bytes = await writePartial(ctx, partial);
        const written = await identityOf(partial);
        await ctx.intent({ kind: FILE_RESOURCE, token: path, data: { ...intent, written } });
        await Deno.rename(partial, path);
      } catch (err) {
        await removeIfThere(partial).catch(() => {});
        throw err;
      }
      if (before) return { target, path, bytes, preexisting: true };
      const record = await madeRecord(FILE_RESOURCE, path);
      if (record) await ctx.created(record);
      return { target, path, bytes };
    },
    /**
     * After a crash mid-write: a partial file (named after this run) is
     * removed; a target holding exactly the identity logged before the
     * rename is the finished write — the run's, unless the target existed
     * before (then it is never claimed). Anything else is not the run's:
     * the step runs again.
     */
    async reconcile(ctx, intents) {
      const mine = intents.filter((i) => i.kind === FILE_RESOURCE);
      const last = mine.at(-1);
      if (!last) return undefined;
      const data = last.data ?? {};
      const path = String(data.path ?? last.token);
      if (typeof data.partial === "string") await removeIfThere(data.partial);
      const written = parseIdentity(data.written);
      const current = await identityOf(path);
      if (!written || !current || !sameIdentity(written, current)) return undefined;
      const target = String(ctx.config.target);
      if (data.preexisting) return { target, path, bytes: current.size, preexisting: true };
      const record = await madeRecord(FILE_RESOURCE, path);
      if (record) await ctx.created(record);
      return { target, path, bytes: current.size };
    },
  };
}

/** Deletes a target file this run created, only while it is unchanged. */
export const fileResource: ResourceHandler = localPathHandler;

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
  localPaths: (config, build) => {
    const target = String(config.target);
    return [target, partialPath(target, build.runId)];
  },
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
