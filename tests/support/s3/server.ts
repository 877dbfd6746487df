/**
 * A path-style S3 endpoint on 127.0.0.1: CreateBucket, HeadBucket,
 * DeleteBucket, ListBuckets, PutObject, GetObject, HeadObject, DeleteObject,
 * DeleteObjects and ListObjectsV2, with S3's XML error shapes. Signatures are
 * not checked (any credentials are accepted); `aws-chunked` bodies from the
 * AWS SDK are decoded.
 */
import { escapeXml } from "../ec2/xml.ts";
import { S3Store } from "./store.ts";

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

/** Options of the S3 emulator. */
export interface S3EmulatorOptions {
  /** Buckets that exist from the start. */
  buckets?: string[];
}

/** A running S3 emulator. */
export interface S3Emulator {
  /** `http://127.0.0.1:PORT` — use with `forcePathStyle: true`. */
  endpoint: string;
  port: number;
  store: S3Store;
  /** Count of requests by operation name. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

function xml(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}

function errorResponse(
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): Response {
  const fields = Object.entries(extra).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join("");
  return new Response(
    xml(
      `<Error><Code>${code}</Code><Message>${
        escapeXml(message)
      }</Message>${fields}<RequestId>${crypto.randomUUID()}</RequestId></Error>`,
    ),
    { status, headers: { "content-type": "application/xml" } },
  );
}

/** Decodes an `aws-chunked` body: `hex-size[;chunk-signature=..]\r\n data \r\n` ... `0\r\n` trailers. */
function decodeAwsChunked(raw: Uint8Array): Uint8Array {
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

async function readBody(request: Request): Promise<Uint8Array> {
  const raw = new Uint8Array(await request.arrayBuffer());
  const encoding = request.headers.get("content-encoding") ?? "";
  const sha = request.headers.get("x-amz-content-sha256") ?? "";
  return encoding.includes("aws-chunked") || sha.startsWith("STREAMING-")
    ? decodeAwsChunked(raw)
    : raw;
}

function handleList(store: S3Store, bucket: string, params: URLSearchParams): Response {
  const objects = [...store.buckets.get(bucket)!.objects.values()]
    .filter((o) => o.key.startsWith(params.get("prefix") ?? ""))
    .sort((a, b) => a.key < b.key ? -1 : 1);
  const after = params.get("continuation-token") ?? params.get("start-after") ?? "";
  const remaining = objects.filter((o) => o.key > after);
  const maxKeys = Number(params.get("max-keys") ?? 1000);
  const page = remaining.slice(0, maxKeys);
  const truncated = remaining.length > page.length;
  const contents = page.map((o) =>
    `<Contents><Key>${escapeXml(o.key)}</Key><LastModified>${o.lastModified.toISOString()}` +
    `</LastModified><ETag>${escapeXml(o.etag)}</ETag><Size>${o.body.length}</Size>` +
    `<StorageClass>STANDARD</StorageClass></Contents>`
  ).join("");
  const next = truncated
    ? `<NextContinuationToken>${escapeXml(page[page.length - 1].key)}</NextContinuationToken>`
    : "";
  return new Response(
    xml(
      `<ListBucketResult xmlns="${S3_NS}"><Name>${escapeXml(bucket)}</Name><Prefix>${
        escapeXml(params.get("prefix") ?? "")
      }</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
        `<IsTruncated>${truncated}</IsTruncated>${next}${contents}</ListBucketResult>`,
    ),
    { headers: { "content-type": "application/xml" } },
  );
}

async function handleDeleteObjects(
  store: S3Store,
  bucket: string,
  request: Request,
): Promise<Response> {
  const body = new TextDecoder().decode(await readBody(request));
  const keys = [...body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) =>
    m[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(
      /&apos;/g,
      "'",
    ).replace(/&amp;/g, "&")
  );
  const objects = store.buckets.get(bucket)!.objects;
  for (const key of keys) objects.delete(key);
  const deleted = keys.map((k) => `<Deleted><Key>${escapeXml(k)}</Key></Deleted>`).join("");
  return new Response(xml(`<DeleteResult xmlns="${S3_NS}">${deleted}</DeleteResult>`), {
    headers: { "content-type": "application/xml" },
  });
}

function objectHeaders(
  o: { etag: string; body: Uint8Array; contentType: string; lastModified: Date },
) {
  return {
    etag: o.etag,
    "content-type": o.contentType,
    "content-length": String(o.body.length),
    "last-modified": o.lastModified.toUTCString(),
  };
}

async function route(
  store: S3Store,
  count: (op: string) => void,
  request: Request,
): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname.replace(/^\/+/, "");
  const slash = path.indexOf("/");
  const bucket = decodeURIComponent(slash < 0 ? path : path.slice(0, slash));
  const key = slash < 0 ? "" : decodeURIComponent(path.slice(slash + 1));
  const method = request.method;
  if (!bucket) {
    count("ListBuckets");
    const buckets = [...store.buckets.entries()].map(([name, b]) =>
      `<Bucket><Name>${
        escapeXml(name)
      }</Name><CreationDate>${b.created.toISOString()}</CreationDate></Bucket>`
    ).join("");
    return new Response(
      xml(
        `<ListAllMyBucketsResult xmlns="${S3_NS}"><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`,
      ),
      { headers: { "content-type": "application/xml" } },
    );
  }
  if (!key) {
    if (method === "PUT") {
      count("CreateBucket");
      await request.body?.cancel();
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
        return errorResponse(400, "InvalidBucketName", "The specified bucket is not valid.", {
          BucketName: bucket,
        });
      }
      if (!store.createBucket(bucket)) {
        return errorResponse(
          409,
          "BucketAlreadyOwnedByYou",
          "Your previous request to create the named bucket succeeded and you already own it.",
          { BucketName: bucket },
        );
      }
      return new Response(null, { status: 200, headers: { location: `/${bucket}` } });
    }
    if (!store.buckets.has(bucket)) {
      await request.body?.cancel();
      if (method === "HEAD") return new Response(null, { status: 404 });
      return errorResponse(404, "NoSuchBucket", "The specified bucket does not exist", {
        BucketName: bucket,
      });
    }
    if (method === "HEAD") return count("HeadBucket"), new Response(null, { status: 200 });
    if (method === "GET") {
      return count("ListObjectsV2"), handleList(store, bucket, url.searchParams);
    }
    if (method === "POST" && url.searchParams.has("delete")) {
      count("DeleteObjects");
      return await handleDeleteObjects(store, bucket, request);
    }
    if (method === "DELETE") {
      count("DeleteBucket");
      if (store.buckets.get(bucket)!.objects.size > 0) {
        return errorResponse(409, "BucketNotEmpty", "The bucket you tried to delete is not empty", {
          BucketName: bucket,
        });
      }
      store.buckets.delete(bucket);
      return new Response(null, { status: 204 });
    }
    return errorResponse(405, "MethodNotAllowed", `${method} is not allowed on a bucket`);
  }
  if (!store.buckets.has(bucket)) {
    await request.body?.cancel();
    if (method === "HEAD") return new Response(null, { status: 404 });
    return errorResponse(404, "NoSuchBucket", "The specified bucket does not exist", {
      BucketName: bucket,
    });
  }
  switch (method) {
    case "PUT": {
      count("PutObject");
      const body = await readBody(request);
      const o = store.put(
        bucket,
        key,
        body,
        request.headers.get("content-type") ?? "binary/octet-stream",
      );
      return new Response(null, { status: 200, headers: { etag: o.etag } });
    }
    case "GET":
    case "HEAD": {
      count(method === "GET" ? "GetObject" : "HeadObject");
      const o = store.get(bucket, key);
      if (!o) {
        if (method === "HEAD") return new Response(null, { status: 404 });
        return errorResponse(404, "NoSuchKey", "The specified key does not exist.", { Key: key });
      }
      return new Response(method === "GET" ? o.body as Uint8Array<ArrayBuffer> : null, {
        headers: objectHeaders(o),
      });
    }
    case "DELETE":
      count("DeleteObject");
      store.buckets.get(bucket)!.objects.delete(key);
      return new Response(null, { status: 204 });
  }
  await request.body?.cancel();
  return errorResponse(405, "MethodNotAllowed", `${method} is not allowed on an object`);
}

/** Starts an S3 emulator on 127.0.0.1 (a free port); `close()` it in a `finally`. */
export function startS3Emulator(options: S3EmulatorOptions = {}): Promise<S3Emulator> {
  const store = new S3Store();
  for (const bucket of options.buckets ?? []) store.createBucket(bucket);
  const calls = new Map<string, number>();
  const count = (op: string) => void calls.set(op, (calls.get(op) ?? 0) + 1);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => route(store, count, request),
  );
  const port = server.addr.port;
  return Promise.resolve({
    endpoint: `http://127.0.0.1:${port}`,
    port,
    store,
    calls,
    close: () => server.shutdown(),
  });
}
