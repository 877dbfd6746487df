/**
 * `http_directory` served as Packer serves it (Go's http.FileServer): files
 * with Last-Modified and single byte ranges, `index.html` for a directory,
 * else a `<pre>` listing, redirects that add or drop a trailing slash, plain
 * "404 page not found". The path never leaves the directory (it is cleaned
 * first); symbolic links inside it are followed, as Go does.
 */
import { posix } from "node:path";

/** Answers requests from the files under `root`. */
export function directoryHandler(root: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    let decoded: string;
    try {
      decoded = decodeURIComponent(url.pathname);
    } catch {
      return text(400, "400 Bad Request\n");
    }
    if (decoded.includes("\0")) return text(400, "400 Bad Request\n");
    // Go's path.Clean: no "..", no trailing slash.
    const clean = posix.normalize(posix.join("/", decoded)).replace(/(.)\/$/, "$1");
    const target = root + clean;
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(target);
    } catch (e) {
      return e instanceof Deno.errors.PermissionDenied
        ? text(403, "403 Forbidden\n")
        : text(404, "404 page not found\n");
    }
    // Go redirects ".../index.html" to its directory, and fixes the trailing slash.
    if (url.pathname.endsWith("/index.html")) return redirect("./");
    if (info.isDirectory && !url.pathname.endsWith("/")) {
      return redirect(posix.basename(clean) + "/" + url.search);
    }
    if (!info.isDirectory && url.pathname.endsWith("/")) {
      return redirect("../" + posix.basename(clean) + url.search);
    }
    if (info.isDirectory) {
      const index = `${target.replace(/\/$/, "")}/index.html`;
      const indexInfo = await Deno.stat(index).catch(() => undefined);
      if (indexInfo?.isFile) return await serveFile(request, index, indexInfo);
      return await listing(request, target);
    }
    return await serveFile(request, target, info);
  };
}

async function serveFile(request: Request, path: string, info: Deno.FileInfo): Promise<Response> {
  const size = info.size;
  const modified = info.mtime;
  if (modified) {
    const since = Date.parse(request.headers.get("if-modified-since") ?? "");
    if (!Number.isNaN(since) && Math.floor(modified.getTime() / 1000) * 1000 <= since) {
      return new Response(null, {
        status: 304,
        headers: { "last-modified": modified.toUTCString() },
      });
    }
  }
  const headers = new Headers({
    "accept-ranges": "bytes",
    "content-type": await contentType(path),
  });
  if (modified) headers.set("last-modified", modified.toUTCString());
  const range = parseRange(
    request.headers.get("range"),
    size,
    request.headers.get("if-range"),
    modified,
  );
  if (range === "no-overlap" || range === "invalid") {
    // Go answers a range it cannot use before it advertises ranges at all.
    headers.delete("accept-ranges");
    headers.set("content-type", "text/plain; charset=utf-8");
    headers.set("x-content-type-options", "nosniff");
    if (range === "invalid") return new Response("invalid range\n", { status: 416, headers });
    headers.set("content-range", `bytes */${size}`);
    return new Response("invalid range: failed to overlap\n", { status: 416, headers });
  }
  const [start, end] = range ?? [0, size - 1];
  const length = Math.max(0, end - start + 1);
  headers.set("content-length", String(length));
  if (range) headers.set("content-range", `bytes ${start}-${end}/${size}`);
  const status = range ? 206 : 200;
  if (request.method === "HEAD" || length === 0) return new Response(null, { status, headers });
  const file = await Deno.open(path);
  if (start > 0) await file.seek(start, Deno.SeekMode.Start);
  return new Response(limited(file, length), { status, headers });
}

/**
 * One `bytes=` range, as Go resolves it; several ranges are answered with
 * the whole file (HTTP allows a server to ignore Range).
 */
function parseRange(
  header: string | null,
  size: number,
  ifRange: string | null,
  modified: Date | null,
): [number, number] | "no-overlap" | "invalid" | undefined {
  if (!header || !header.startsWith("bytes=")) return undefined;
  if (ifRange && modified && Date.parse(ifRange) !== Math.floor(modified.getTime() / 1000) * 1000) {
    return undefined;
  }
  const specs = header.slice(6).split(",").map((s) => s.trim()).filter(Boolean);
  if (specs.length !== 1) return undefined;
  const m = /^(\d*)-(\d*)$/.exec(specs[0]);
  if (!m || (m[1] === "" && m[2] === "")) return "invalid";
  if (m[1] === "") {
    const suffix = Math.min(Number(m[2]), size);
    // "bytes=-0" is an empty 206 in the Go Packer 1.6.6 was built with.
    return [size - suffix, size - 1];
  }
  const start = Number(m[1]);
  if (m[2] !== "" && Number(m[2]) < start) return "invalid";
  if (start >= size) return "no-overlap";
  return [start, m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1)];
}

function limited(file: Deno.FsFile, length: number): ReadableStream<Uint8Array> {
  let left = length;
  return new ReadableStream({
    async pull(controller) {
      const chunk = new Uint8Array(Math.min(256 * 1024, left));
      const n = await file.read(chunk);
      if (n === null || n === 0) {
        file.close();
        controller.close();
        return;
      }
      left -= n;
      controller.enqueue(chunk.subarray(0, n));
      if (left <= 0) {
        file.close();
        controller.close();
      }
    },
    cancel() {
      file.close();
    },
  });
}

async function listing(request: Request, dir: string): Promise<Response> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    let isDir = entry.isDirectory;
    if (entry.isSymlink) {
      isDir = (await Deno.stat(`${dir}/${entry.name}`).catch(() => null))?.isDirectory ?? false;
    }
    names.push(entry.name + (isDir ? "/" : ""));
  }
  names.sort();
  // As Go: the href is the URL-escaped name (not HTML-escaped), the text the HTML-escaped name.
  const rows = names.map((n) =>
    `<a href="${encodeURI(n).replace(/[?#]/g, encodeURIComponent)}">${escapeHtml(n)}</a>\n`
  );
  // The listing of the Go that Packer 1.6.6 was built with (newer Go adds a doctype line).
  const body = `<pre>\n${rows.join("")}</pre>\n`;
  const headers = new Headers({ "content-type": "text/html; charset=utf-8" });
  const modified = (await Deno.stat(dir)).mtime;
  if (modified) headers.set("last-modified", modified.toUTCString());
  return new Response(request.method === "HEAD" ? null : body, { headers });
}

const byExtension: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".xml": "text/xml; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".gz": "application/gzip",
  ".iso": "application/x-iso9660-image",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** By extension, else sniffed from the first bytes as Go does for text versus binary. */
async function contentType(path: string): Promise<string> {
  const known = byExtension[posix.extname(path).toLowerCase()];
  if (known) return known;
  const file = await Deno.open(path);
  try {
    const head = new Uint8Array(512);
    const n = (await file.read(head)) ?? 0;
    return looksLikeText(head.subarray(0, n))
      ? "text/plain; charset=utf-8"
      : "application/octet-stream";
  } finally {
    file.close();
  }
}

/** Go's rule: binary when any byte is a control character other than tab, newline, FF, CR, ESC. */
export function looksLikeText(bytes: Uint8Array): boolean {
  return !bytes.some((b) =>
    b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)
  );
}

function redirect(location: string): Response {
  return new Response(null, { status: 301, headers: { location } });
}

function text(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}

const htmlEscapes: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&#34;",
  "'": "&#39;",
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => htmlEscapes[c]);
}
