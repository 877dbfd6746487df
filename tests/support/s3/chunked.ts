/** Request bodies as the AWS SDK sends them: plain, or `aws-chunked` with signatures/trailers. */

/** Decodes an `aws-chunked` body: `hex-size[;chunk-signature=..]\r\n data \r\n` ... `0\r\n` trailers. */
export function decodeAwsChunked(raw: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const decoder = new TextDecoder();
  while (offset < raw.length) {
    let lineEnd = offset;
    while (lineEnd + 1 < raw.length && !(raw[lineEnd] === 13 && raw[lineEnd + 1] === 10)) lineEnd++;
    const size = parseInt(decoder.decode(raw.subarray(offset, lineEnd)).split(";")[0], 16);
    if (!Number.isFinite(size) || size === 0) break;
    const start = lineEnd + 2;
    parts.push(raw.subarray(start, start + size));
    offset = start + size + 2;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The object bytes of a request, `aws-chunked` framing removed. */
export async function readBody(request: Request): Promise<Uint8Array> {
  const raw = new Uint8Array(await request.arrayBuffer());
  const encoding = request.headers.get("content-encoding") ?? "";
  const sha = request.headers.get("x-amz-content-sha256") ?? "";
  return encoding.includes("aws-chunked") || sha.startsWith("STREAMING-")
    ? decodeAwsChunked(raw)
    : raw;
}
