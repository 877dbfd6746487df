/**
 * The S3 emulator's conditional requests and listing, through the real AWS SDK:
 * the shared conformance cases, then what only the emulator can stage (two
 * conditional writes overlapping in flight → 409 ConditionalRequestConflict).
 */
import assert from "node:assert/strict";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { startS3Emulator } from "../support/s3/mod.ts";
import { s3ClientFor, sdkFailure } from "../support/s3/client.ts";
import { registerConformance } from "./s3_conformance.ts";

registerConformance("S3 emulator passes the S3 conformance cases", async () => {
  const s3 = await startS3Emulator();
  return { endpoint: s3.endpoint, stop: () => s3.close() };
});
