/**
 * The S3 operations the emulator answers, path-style: which operation a
 * request is, and what it does to the store. Errors are thrown as S3Error.
 */
import { escapeXml } from "../ec2/xml.ts";
import { readBody } from "./chunked.ts";
import {
  deletePreconditionError,
  isConditionalWrite,
  readPrecondition,
  writePreconditionError,
} from "./conditions.ts";
import { S3Error, s3Errors, xml } from "./errors.ts";
import type { ConditionalWritesInFlight } from "./in_flight.ts";
import { listObjectsV2 } from "./list.ts";
import type { S3Object, S3Store } from "./store.ts";

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

/** A request, named as S3's API names it. */
export interface Operation {
  name: string;
  bucket: string;
  key: string;
}

/** What the operations work on. */
export interface OperationContext {
  store: S3Store;
  inFlight: ConditionalWritesInFlight;
  /** How long a PutObject waits between receiving its body and committing. */
  putCommitDelayMs(): number;
}

/** Names the operation of a path-style request (`/bucket/key?query`); 400 `InvalidURI` when it cannot be decoded. */
export function classify(request: Request, url: URL): Operation {
  const path = url.pathname.replace(/^\/+/, "");
  const slash = path.indexOf("/");
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(slash < 0 ? path : path.slice(0, slash));
    key = slash < 0 ? "" : decodeURIComponent(path.slice(slash + 1));
  } catch {
    throw new S3Error(400, "InvalidURI", "Couldn't parse the specified URI.");
  }
  const q = url.searchParams;
  const m = request.method;
  let name = `Unsupported${m}`;
  if (!bucket) name = m === "GET" ? "ListBuckets" : name;
  else if (!key) {
    if (m === "PUT") name = "CreateBucket";
    else if (m === "HEAD") name = "HeadBucket";
    else if (m === "GET") name = q.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
    else if (m === "POST" && q.has("delete")) name = "DeleteObjects";
    else if (m === "DELETE") name = "DeleteBucket";
  } else if (q.has("uploads") || q.has("uploadId")) name = "MultipartUpload";
  else if (m === "PUT") {
    name = request.headers.has("x-amz-copy-source") ? "CopyObject" : "PutObject";
  } else if (m === "GET") name = "GetObject";
  else if (m === "HEAD") name = "HeadObject";
  else if (m === "DELETE") name = "DeleteObject";
  return { name, bucket, key };
}

function xmlOk(body: string): Response {
  return new Response(xml(body), { headers: { "content-type": "application/xml" } });
}

function objectHeaders(o: S3Object): Record<string, string> {
  return {
    etag: o.etag,
    "content-type": o.contentType,
    "content-length": String(o.body.length),
    "last-modified": o.lastModified.toUTCString(),
    "accept-ranges": "bytes",
  };
}

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, "&");
}

function bucketObjects(ctx: OperationContext, bucket: string): Map<string, S3Object> {
  const found = ctx.store.buckets.get(bucket);
  if (!found) throw s3Errors.noSuchBucket(bucket);
  return found.objects;
}

function listBuckets(ctx: OperationContext): Response {
  const buckets = [...ctx.store.buckets.entries()].map(([name, b]) =>
    `<Bucket><Name>${
      escapeXml(name)
    }</Name><CreationDate>${b.created.toISOString()}</CreationDate></Bucket>`
  ).join("");
  return xmlOk(
    `<ListAllMyBucketsResult xmlns="${S3_NS}"><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`,
  );
}

function createBucket(ctx: OperationContext, bucket: string): Response {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new S3Error(400, "InvalidBucketName", "The specified bucket is not valid.", {
      BucketName: bucket,
    });
  }
  if (!ctx.store.createBucket(bucket)) {
    throw new S3Error(
      409,
      "BucketAlreadyOwnedByYou",
      "Your previous request to create the named bucket succeeded and you already own it.",
      { BucketName: bucket },
    );
  }
  return new Response(null, { status: 200, headers: { location: `/${bucket}` } });
}

function deleteBucket(ctx: OperationContext, bucket: string): Response {
  if (bucketObjects(ctx, bucket).size > 0) {
    throw new S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty", {
      BucketName: bucket,
    });
  }
  ctx.store.buckets.delete(bucket);
  return new Response(null, { status: 204 });
}

async function putObject(
  ctx: OperationContext,
  op: Operation,
  request: Request,
): Promise<Response> {
  const objects = bucketObjects(ctx, op.bucket);
  const conditional = isConditionalWrite(request.headers);
  const held = conditional ? ctx.inFlight.begin(op.bucket, op.key) : undefined;
  let body: Uint8Array;
  let undisturbed = true;
  try {
    // The loser of two overlapping conditional writes still sends its whole body first.
    body = await readBody(request);
    const delay = ctx.putCommitDelayMs();
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  } finally {
    if (held) undisturbed = ctx.inFlight.end(held);
  }
  if ((conditional && !held) || !undisturbed) throw s3Errors.conditionalConflict();
  const refused = writePreconditionError(request.headers, objects.get(op.key), op.key);
  if (refused) throw refused;
  const stored = ctx.store.put(
    op.bucket,
    op.key,
    body,
    request.headers.get("content-type") ?? "binary/octet-stream",
  );
  ctx.inFlight.touched(op.bucket, op.key);
  return new Response(null, { status: 200, headers: { etag: stored.etag } });
}

function readObject(ctx: OperationContext, op: Operation, request: Request): Response {
  const found = bucketObjects(ctx, op.bucket).get(op.key);
  if (!found) throw s3Errors.noSuchKey(op.key);
  const decision = readPrecondition(request.headers, found);
  if (decision instanceof S3Error) throw decision;
  if (decision === "not-modified") {
    return new Response(null, {
      status: 304,
      headers: { etag: found.etag, "last-modified": found.lastModified.toUTCString() },
    });
  }
  const body = request.method === "GET" ? found.body as Uint8Array<ArrayBuffer> : null;
  return new Response(body, { headers: objectHeaders(found) });
}

function deleteObject(ctx: OperationContext, op: Operation, request: Request): Response {
  const objects = bucketObjects(ctx, op.bucket);
  const refused = deletePreconditionError(
    request.headers.get("if-match"),
    objects.get(op.key),
    op.key,
  );
  if (refused) throw refused;
  if (objects.delete(op.key)) ctx.inFlight.touched(op.bucket, op.key);
  return new Response(null, { status: 204 });
}

async function deleteObjects(
  ctx: OperationContext,
  op: Operation,
  request: Request,
): Promise<Response> {
  const objects = bucketObjects(ctx, op.bucket);
  const body = new TextDecoder().decode(await readBody(request));
  const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(body);
  const results = [...body.matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map(([, inner]) => {
    const key = unescapeXml(inner.match(/<Key>([\s\S]*?)<\/Key>/)?.[1] ?? "");
    const etag = inner.match(/<ETag>([\s\S]*?)<\/ETag>/)?.[1];
    const refused = deletePreconditionError(
      etag === undefined ? null : unescapeXml(etag),
      objects.get(key),
      key,
    );
    if (refused) {
      return `<Error><Key>${escapeXml(key)}</Key><Code>${refused.code}</Code><Message>${
        escapeXml(refused.message)
      }</Message></Error>`;
    }
    if (objects.delete(key)) ctx.inFlight.touched(op.bucket, key);
    return quiet ? "" : `<Deleted><Key>${escapeXml(key)}</Key></Deleted>`;
  });
  return xmlOk(`<DeleteResult xmlns="${S3_NS}">${results.join("")}</DeleteResult>`);
}

/** Runs one operation against the store. */
export async function perform(
  ctx: OperationContext,
  op: Operation,
  request: Request,
  url: URL,
): Promise<Response> {
  switch (op.name) {
    case "ListBuckets":
      return listBuckets(ctx);
    case "CreateBucket":
      return createBucket(ctx, op.bucket);
    case "HeadBucket":
      bucketObjects(ctx, op.bucket);
      return new Response(null, { status: 200 });
    case "ListObjectsV2":
    case "ListObjects":
      return listObjectsV2(op.bucket, bucketObjects(ctx, op.bucket).values(), url.searchParams);
    case "DeleteObjects":
      return await deleteObjects(ctx, op, request);
    case "DeleteBucket":
      return deleteBucket(ctx, op.bucket);
    case "PutObject":
      return await putObject(ctx, op, request);
    case "GetObject":
    case "HeadObject":
      return readObject(ctx, op, request);
    case "DeleteObject":
      return deleteObject(ctx, op, request);
    case "CopyObject":
    case "MultipartUpload":
      throw s3Errors.notImplemented(`${op.name} is not emulated`);
  }
  throw new S3Error(405, "MethodNotAllowed", `${request.method} is not allowed here`);
}
