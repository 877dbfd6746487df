/**
 * Cross-check: the S3 conformance cases against moto's S3 server, an S3
 * implementation nobody here wrote. Runs when moto's source is present
 * (KILN_MOTO_SRC or /work/moto-src); otherwise the test is listed as skipped
 * with the reason. Cases where moto is known to differ from AWS's documented
 * behaviour are skipped with the difference named in the step.
 */
import { motoSource, startMoto } from "../support/s3/moto.ts";
import { registerConformance } from "./s3_conformance.ts";

const found = motoSource();

/**
 * Where moto (HEAD of getmoto/moto, 5.2.x) differs from AWS's documented
 * behaviour; the emulator follows AWS there. Each entry names the difference.
 */
const motoDiffersFromAws: Record<string, string> = {
  "PutObject If-None-Match with an ETag instead of * is 501 NotImplemented":
    "moto ignores an If-None-Match other than * and overwrites",
  "DeleteObjects with an ETag per object deletes on a match and reports PreconditionFailed otherwise":
    "moto ignores the ETag of DeleteObjects entries and deletes anyway",
  "ListObjectsV2 never returns more than 1000 keys, even when max-keys asks for more":
    "moto returns every key when max-keys exceeds 1000",
  "ListObjectsV2 refuses a continuation token it never issued with 400 InvalidArgument":
    "moto answers 500 for a token it never issued (400 InvalidArgument only for an empty one)",
};

registerConformance(
  "moto's S3 server passes the S3 conformance cases",
  async () => {
    const moto = await startMoto();
    return { endpoint: moto.endpoint, stop: () => moto.stop() };
  },
  { ignore: "missing" in found ? found.missing : undefined, skip: motoDiffersFromAws },
);
