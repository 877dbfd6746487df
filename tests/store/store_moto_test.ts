/**
 * Cross-check: the store against moto's S3 server, an S3 implementation
 * nobody here wrote (its conditional writes are moto's, not the project
 * emulator's). Runs when moto's source is present (KILN_MOTO_SRC or
 * /work/moto-src); otherwise it is listed as skipped with the reason.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { motoSource, startMoto } from "../support/s3/moto.ts";
import { s3ClientFor } from "../support/s3/client.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { watchKiln } from "../support/kiln_process.ts";
import { runIdOf, writeStoreTemplate } from "../support/store_lab.ts";

const found = motoSource();
const why = "missing" in found ? ` (skipped: ${found.missing})` : "";

Deno.test({
  name:
    `the store on moto's S3: runs across runners, one of two resumes, a racing append refused${why}`,
  ignore: "missing" in found,
  async fn() {
    const moto = await startMoto();
    const dir = await Deno.makeTempDir({ prefix: "kiln-store-moto-" });
    try {
      const s3 = s3ClientFor(moto.endpoint, 3);
      await s3.send(new CreateBucketCommand({ Bucket: "kiln-runs" }));
      const keyFile = join(dir, "team.key");
      await Deno.writeFile(keyFile, crypto.getRandomValues(new Uint8Array(32)), { mode: 0o600 });
      const env = (name: string, extra: Record<string, string> = {}) => ({
        KILN_STORE: "s3://kiln-runs/team",
        KILN_STORE_KEY_FILE: keyFile,
        KILN_STORE_ENDPOINT: moto.endpoint,
        KILN_STORE_LEASE_SECONDS: "2",
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_REGION: "us-east-1",
        KILN_HOME: join(dir, name, "home"),
        KILN_SEAL_DIR: join(dir, name, "seals"),
        ...extra,
      });
      const kiln = (name: string, args: string[], extra?: Record<string, string>) =>
        runKiln(args, { cwd: dir, env: env(name, extra) });

      // Killed after a provisioner; two runners resume at once: one proceeds.
      const template = await writeStoreTemplate(dir, 0);
      const a = await kiln("a", ["build", template], { KILN_CRASH_AFTER: "ProvisionerSucceeded" });
      assert.equal(a.signal, "SIGKILL");
      const id = runIdOf(a.stdout + a.stderr);
      const [b, c] = await Promise.all([
        kiln("b", ["build", "--resume", id]),
        kiln("c", ["build", "--resume", id]),
      ]);
      assert.deepEqual([b.code, c.code].sort(), [0, 1], b.stderr + c.stderr);
      const replay = await kiln("d", ["replay", id]);
      assert.equal(replay.code, 0, replay.stderr);
      assert.equal((replay.stdout.match(/Resuming run/g) ?? []).length, 1);
      const runs = await kiln("d", ["runs"]);
      assert.match(runs.stdout, new RegExp(`${id}\\s+succeeded`));

      // Another writer's append of the next event: moto's 412 stops the runner.
      const slow = await writeStoreTemplate(join(dir), 3);
      const w = watchKiln(["build", slow], {
        cwd: dir,
        env: env("e", { KILN_STORE_LEASE_SECONDS: "30" }),
      });
      await w.waitFor(/Running local shell script[\s\S]*Running local shell script/);
      const id2 = runIdOf(w.output());
      await new Promise((r) => setTimeout(r, 600));
      const listed = await s3.send(
        new ListObjectsV2Command({ Bucket: "kiln-runs", Prefix: `team/${id2}/log/` }),
      );
      const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
      const last = keys.at(-1)!;
      const body = await (await s3.send(
        new GetObjectCommand({
          Bucket: "kiln-runs",
          Key: last,
        }),
      )).Body!.transformToString();
      const lastSeq = Math.max(...[...body.matchAll(/"seq":(\d+)/g)].map((m) => Number(m[1])));
      await s3.send(
        new PutObjectCommand({
          Bucket: "kiln-runs",
          Key: `team/${id2}/log/${String(lastSeq + 1).padStart(12, "0")}`,
          Body: "{}\n",
          IfNoneMatch: "*",
        }),
      );
      const status = await w.done();
      assert.equal(status.code, 1, w.output());
      assert.match(w.output(), /another runner already recorded event \d+/);
    } finally {
      await moto.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
