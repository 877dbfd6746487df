/**
 * The S3 emulator's conditional requests and listing, through the real AWS SDK:
 * the shared conformance cases, then what only the emulator can stage (two
 * conditional writes overlapping in flight → 409 ConditionalRequestConflict).
 */
import assert from "node:assert/strict";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { startS3Emulator } from "../support/s3/mod.ts";
import { s3ClientFor, sdkFailure } from "../support/s3/client.ts";
import { registerConformance } from "./s3_conformance.ts";

registerConformance("S3 emulator passes the S3 conformance cases", async () => {
  const s3 = await startS3Emulator();
  return { endpoint: s3.endpoint, stop: () => s3.close() };
});

Deno.test("two overlapping conditional puts of one key: the later one gets 409 ConditionalRequestConflict, then 412 on retry", async () => {
  // Commits wait 300 ms, so the second put arrives while the first holds the key.
  const s3 = await startS3Emulator({ buckets: ["runs"], faults: { putCommitDelayMs: 300 } });
  const client = s3ClientFor(s3.endpoint);
  try {
    const append = (body: string) =>
      client.send(
        new PutObjectCommand({
          Bucket: "runs",
          Key: "r1/seg/000001",
          Body: body,
          IfNoneMatch: "*",
        }),
      );
    const first = append("writer A");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await sdkFailure(append("writer B"));
    assert.deepEqual(second, { name: "ConditionalRequestConflict", status: 409 });
    assert.match((await first).ETag!, /^"[0-9a-f]{32}"$/);
    assert.equal(new TextDecoder().decode(s3.store.get("runs", "r1/seg/000001")!.body), "writer A");
    assert.deepEqual(await sdkFailure(append("writer B")), {
      name: "PreconditionFailed",
      status: 412,
    });
    // Different keys do not conflict.
    const [x, y] = await Promise.all([
      client.send(new PutObjectCommand({ Bucket: "runs", Key: "x", Body: "x", IfNoneMatch: "*" })),
      client.send(new PutObjectCommand({ Bucket: "runs", Key: "y", Body: "y", IfNoneMatch: "*" })),
    ]);
    assert.ok(x.ETag && y.ETag);
  } finally {
    client.destroy();
    await s3.close();
  }
});

Deno.test("a delete that commits while a conditional put is in flight makes the put 409", async () => {
  const s3 = await startS3Emulator({ buckets: ["runs"] });
  const client = s3ClientFor(s3.endpoint);
  try {
    const lease = await client.send(
      new PutObjectCommand({ Bucket: "runs", Key: "lease", Body: "holder 1" }),
    );
    s3.faults.configure({ putCommitDelayMs: 300 });
    const renew = client.send(
      new PutObjectCommand({
        Bucket: "runs",
        Key: "lease",
        Body: "holder 1 again",
        IfMatch: lease.ETag,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.send(new DeleteObjectCommand({ Bucket: "runs", Key: "lease" }));
    assert.deepEqual(await sdkFailure(renew), { name: "ConditionalRequestConflict", status: 409 });
    assert.equal(s3.store.get("runs", "lease"), undefined, "the conflicting put wrote nothing");
  } finally {
    client.destroy();
    await s3.close();
  }
});

Deno.test("PutObject with both If-Match and If-None-Match is 501 NotImplemented", async () => {
  const s3 = await startS3Emulator({ buckets: ["runs"] });
  const client = s3ClientFor(s3.endpoint);
  try {
    const { ETag } = await client.send(
      new PutObjectCommand({ Bucket: "runs", Key: "k", Body: "v" }),
    );
    const refused = await sdkFailure(
      client.send(
        new PutObjectCommand({
          Bucket: "runs",
          Key: "k",
          Body: "w",
          IfMatch: ETag,
          IfNoneMatch: "*",
        }),
      ),
    );
    assert.deepEqual(refused, { name: "NotImplemented", status: 501 });
    const got = await client.send(new GetObjectCommand({ Bucket: "runs", Key: "k" }));
    assert.equal(await got.Body!.transformToString(), "v");
  } finally {
    client.destroy();
    await s3.close();
  }
});
