/**
 * Runs kiln's own transfer snippets (communicators/winrm_scripts.ts) the way
 * the PowerShell would on Windows: same line protocol on stdin/stdout, same
 * size and SHA-256 checks, same error text and exit codes, files under the
 * server's root through the Windows path mapping.
 */
import { Buffer } from "node:buffer";
import { createHash, type Hash } from "node:crypto";
import { DOWNLOAD_MARKER, UPLOAD_MARKER } from "../../../communicators/winrm_scripts.ts";
import type { StdinQueue } from "./commands.ts";

/** What a snippet may touch. */
export interface SnippetIo {
  localPath(windowsPath: string): string;
  stdin: StdinQueue;
  stdout(bytes: Uint8Array): void;
  stderr(text: string): void;
  signal: AbortSignal;
}

const path = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

async function writeAll(file: Deno.FsFile, bytes: Uint8Array) {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}

async function upload(io: SnippetIo): Promise<number> {
  let file: Deno.FsFile | undefined;
  let hash: Hash | undefined;
  let size = 0;
  let name = "";
  try {
    for await (const line of io.stdin.lines(io.signal)) {
      if (line === "") continue;
      if (line[0] !== ">") {
        if (!file || !hash) {
          throw new Error("You cannot call a method on a null-valued expression.");
        }
        const bytes = Buffer.from(line, "base64");
        hash.update(bytes);
        size += bytes.length;
        await writeAll(file, bytes);
        continue;
      }
      const [tag, arg, sha] = line.slice(1).split(" ");
      if (tag === "D") {
        await Deno.mkdir(io.localPath(path(arg)), { recursive: true });
      } else if (tag === "F") {
        name = path(arg);
        const local = io.localPath(name);
        await Deno.mkdir(local.slice(0, local.lastIndexOf("/")), { recursive: true });
        file = await Deno.open(local, { write: true, create: true, truncate: true });
        hash = createHash("sha256");
        size = 0;
      } else if (tag === "E") {
        file?.close();
        file = undefined;
        const digest = hash?.digest("hex");
        if (size !== Number(arg) || digest !== sha) {
          io.stderr(
            `${name}: wrote ${size} bytes (sha256 ${digest}), expected ${arg} (sha256 ${sha})\r\n`,
          );
          return 2;
        }
      }
    }
    return 0;
  } finally {
    file?.close();
  }
}

function globRegex(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${body}$`, "i");
}

async function download(io: SnippetIo, src: string, mode: string): Promise<number> {
  const enc = new TextEncoder();
  const line = (text: string) => io.stdout(enc.encode(`${text}\r\n`));
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  const sendFile = async (local: string, rel: string) => {
    line(`>F ${b64(rel)}`);
    const hash = createHash("sha256");
    let n = 0;
    const file = await Deno.open(local, { read: true });
    try {
      const buf = new Uint8Array(393216);
      while (true) {
        if (io.signal.aborted) return;
        const got = await file.read(buf);
        if (got === null) break;
        const piece = buf.subarray(0, got);
        hash.update(piece);
        n += got;
        line(Buffer.from(piece).toString("base64"));
      }
    } finally {
      file.close();
    }
    line(`>E ${n} ${hash.digest("hex")}`);
  };
  const sendDir = async (local: string, rel: string) => {
    line(`>D ${b64(rel)}`);
    const names: { name: string; dir: boolean }[] = [];
    for await (const e of Deno.readDir(local)) names.push({ name: e.name, dir: e.isDirectory });
    names.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of names) {
      if (e.dir) await sendDir(`${local}/${e.name}`, `${rel}/${e.name}`);
      else await sendFile(`${local}/${e.name}`, `${rel}/${e.name}`);
    }
  };
  const local = io.localPath(src);
  const leaf = local.slice(local.lastIndexOf("/") + 1);
  try {
    if (mode === "file") await sendFile(local, src.split(/[\\/]/).pop()!);
    else if (mode === "dir") {
      if (!(await Deno.stat(local)).isDirectory) throw new Deno.errors.NotFound();
      await sendDir(local, leaf);
    } else {
      const dir = local.slice(0, local.lastIndexOf("/"));
      const re = globRegex(leaf);
      const matches: Deno.DirEntry[] = [];
      for await (const e of Deno.readDir(dir)) if (re.test(e.name)) matches.push(e);
      if (matches.length === 0) throw new Deno.errors.NotFound();
      matches.sort((a, b) => a.name.localeCompare(b.name));
      for (const e of matches) {
        if (e.isDirectory) await sendDir(`${dir}/${e.name}`, e.name);
        else await sendFile(`${dir}/${e.name}`, e.name);
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    io.stderr(`Cannot find path '${src}' because it does not exist.\r\n`);
    return 1;
  }
  return 0;
}

function quoted(script: string, name: string): string | undefined {
  const m = script.match(new RegExp(`^\\$${name} = '((?:[^']|'')*)'$`, "m"));
  return m?.[1].replaceAll("''", "'");
}

/** Runs `script` if it is one of kiln's transfer snippets; undefined otherwise. */
export function runSnippet(script: string, io: SnippetIo): Promise<number> | undefined {
  const first = script.slice(0, script.indexOf("\n"));
  if (first === UPLOAD_MARKER) return upload(io);
  if (first === DOWNLOAD_MARKER) {
    const src = quoted(script, "src");
    const mode = quoted(script, "mode");
    if (src === undefined || mode === undefined) return undefined;
    return download(io, src, mode);
  }
  return undefined;
}
