/**
 * `http_content` served as Packer serves it: each key is a path (starting
 * with a slash) answered with its value; any other path is a 404 that
 * suggests the nearest key, as Packer's "Did you mean" does.
 */
import { posix } from "node:path";
import { looksLikeText } from "./http_files.ts";

/** Answers requests from a path → content map. */
export function contentHandler(
  content: Readonly<Record<string, string>>,
): (request: Request) => Response {
  const paths = Object.keys(content).sort();
  return (request) => {
    let path: string;
    try {
      path = posix.normalize(decodeURIComponent(new URL(request.url).pathname));
    } catch {
      path = new URL(request.url).pathname;
    }
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    if (Object.hasOwn(content, path)) {
      const body = new TextEncoder().encode(content[path]);
      const type = looksLikeText(body.subarray(0, 512))
        ? "text/plain; charset=utf-8"
        : "application/octet-stream";
      return new Response(request.method === "HEAD" ? null : body, {
        headers: { "content-type": type, "content-length": String(body.length) },
      });
    }
    const suggestion = paths.find((p) => levenshtein(path, p) < 3);
    const message = `${path} not found.` +
      (suggestion ? ` Did you mean ${JSON.stringify(suggestion)}?` : "");
    return new Response(message + "\n", {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
    });
  };
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
