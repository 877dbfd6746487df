/**
 * The `file` provisioner: uploads files, directories (rsync's trailing-slash
 * rule) or inline `content` to the machine, or downloads from it. Each
 * transfer is an event in the run log (paths, bytes, duration).
 */
import type { ProvisionContext, ProvisionerPlugin } from "./provisioner.ts";
import type { ConfigSchema } from "../template/schema.ts";

const schema: ConfigSchema = {
  fields: {
    source: { type: "string", doc: "local file or directory (trailing slash: contents only)" },
    sources: { type: "string_list", doc: "several sources into one destination directory" },
    content: { type: "string", doc: "text written to destination" },
    destination: { type: "string", required: true },
    direction: { type: "string", enum: ["upload", "download"], default: "upload" },
    generated: { type: "bool", default: false, doc: "check sources only when uploading" },
  },
  check(config, report) {
    const sources = sourcesOf(config);
    const hasContent = typeof config.content === "string" && config.content !== "";
    if (hasContent && sources.length > 0) {
      report("content", "cannot be specified with source or sources");
    }
    if (!hasContent && sources.length === 0) report("source", "Source must be specified.");
    if (hasContent && config.direction === "download") {
      report("content", "only works with direction upload");
    }
    if ((config.direction ?? "upload") === "upload" && config.generated !== true) {
      for (const src of sources) {
        try {
          Deno.statSync(src);
        } catch (err) {
          report("source", `Bad source '${src}': ${(err as Error).message}`);
        }
      }
    }
  },
};

function sourcesOf(config: Record<string, unknown>): string[] {
  const list = Array.isArray(config.sources) ? config.sources.map(String) : [];
  if (typeof config.source === "string" && config.source !== "") list.push(config.source);
  return list;
}

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

function dirName(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

async function treeBytes(path: string): Promise<number> {
  const info = await Deno.stat(path);
  if (!info.isDirectory) return info.size;
  let total = 0;
  for await (const entry of Deno.readDir(path)) total += await treeBytes(`${path}/${entry.name}`);
  return total;
}

async function timed(
  ctx: ProvisionContext,
  event: Record<string, unknown>,
  work: () => Promise<number>,
): Promise<void> {
  const started = Date.now();
  try {
    const bytes = await work();
    await ctx.emit("FileTransferred", { ...event, bytes, durationMs: Date.now() - started });
  } catch (err) {
    const message = (err as Error).message;
    ctx.ui.error(`${event.direction === "download" ? "Download" : "Upload"} failed: ${message}`);
    await ctx.emit("FileTransferFailed", {
      ...event,
      error: message,
      durationMs: Date.now() - started,
    });
    throw err;
  }
}

/** A destination naming a directory: a trailing slash, or a backslash on Windows (winrm). */
function namesDirectory(ctx: ProvisionContext, dst: string): boolean {
  return dst.endsWith("/") || (ctx.comm.type === "winrm" && dst.endsWith("\\"));
}

/** One run-log event per transferred chunk (communicators that chunk call it; scp does not). */
function progressEvents(ctx: ProvisionContext): (sent: number, total?: number) => void {
  return (bytes, total) => void ctx.emit("FileTransferProgress", { bytes, total });
}

async function upload(ctx: ProvisionContext, config: Record<string, unknown>): Promise<void> {
  const dst = String(config.destination);
  if (typeof config.content === "string" && config.content !== "") {
    const target = namesDirectory(ctx, dst) ? `${dst}pkr-file-content` : dst;
    const bytes = new TextEncoder().encode(config.content);
    ctx.ui.say(`Uploading content => ${target}`);
    await timed(ctx, { direction: "upload", source: "content", destination: target }, async () => {
      await ctx.comm.upload(target, bytes, {
        size: bytes.length,
        mode: 0o644,
        progress: progressEvents(ctx),
      });
      return bytes.length;
    });
    return;
  }
  for (const src of sourcesOf(config)) {
    ctx.ui.say(`Uploading ${src} => ${dst}`);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(src);
    } catch (err) {
      throw new Error(`source "${src}": ${(err as Error).message}`);
    }
    const event = { direction: "upload", source: src, destination: dst };
    if (info.isDirectory) {
      await timed(ctx, { ...event, directory: true }, async () => {
        await ctx.comm.uploadDir(dst, src, undefined, { progress: progressEvents(ctx) });
        return await treeBytes(src);
      });
      continue;
    }
    const target = namesDirectory(ctx, dst) ? dst + baseName(src) : dst;
    await timed(ctx, { ...event, destination: target }, async () => {
      const file = await Deno.open(src, { read: true });
      await ctx.comm.upload(target, file.readable, {
        size: info.size,
        mode: (info.mode ?? 0o644) & 0o7777,
        progress: progressEvents(ctx),
      });
      return info.size;
    });
  }
}

async function download(ctx: ProvisionContext, config: Record<string, unknown>): Promise<void> {
  let dst = String(config.destination);
  for (const src of sourcesOf(config)) {
    ctx.ui.say(`Downloading ${src} => ${dst}`);
    // Packer: a destination without a trailing slash is a file; with one, a directory.
    let dir = dst;
    if (!dst.endsWith("/")) dir = dirName(dst);
    else if (!src.endsWith("/") && !src.endsWith("*")) dst = `${dst}${baseName(src)}`;
    if (dir !== "") await Deno.mkdir(dir, { recursive: true });
    const event = { direction: "download", source: src, destination: dst };
    if (src.endsWith("/") || /[*?[]/.test(src)) {
      await timed(ctx, { ...event, directory: true }, async () => {
        await ctx.comm.downloadDir(src, dst);
        return await treeBytes(dst);
      });
      return; // Packer stops after a directory download.
    }
    await timed(ctx, event, async () => {
      const file = await Deno.open(dst, { write: true, create: true, truncate: true });
      await ctx.comm.download(src, file.writable);
      return (await Deno.stat(dst)).size;
    });
  }
}

/** The `file` provisioner plugin. */
export const fileProvisioner: ProvisionerPlugin = {
  type: "file",
  schema: { ...schema, pluginType: "file" },
  needsCommunicator: true,
  async provision(ctx, config) {
    if (config.direction === "download") await download(ctx, config);
    else await upload(ctx, config);
  },
};
