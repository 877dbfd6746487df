/**
 * Two amazon-instance builds started in the same second bundle under the
 * same default prefix, `image-{{timestamp}}`, in /tmp. On EC2 they are two
 * machines; on the emulator each instance has its own /tmp, so each AMI must
 * hold its own build's bundle. (When instances shared the host's /tmp, one of
 * the two bundles silently held the other build's files.)
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { amazonTemplate, type AwsWorkspace, awsWorkspace, kiln, writeTemplate } from "./support.ts";

/** The bundled image's tar, as the S3 emulator holds it (one 10 MB part is plenty here). */
function bundledTar(ws: AwsWorkspace): { prefix: string; tar: string } {
  const parts = ws.emulator.ledger().s3Objects.filter((o) => o.includes(".part."));
  assert.equal(parts.length, 1, `one bundle part: ${parts}`);
  const [bucket, ...key] = parts[0].split("/");
  const body = ws.emulator.s3.store.get(bucket, key.join("/"))!.body;
  return {
    prefix: key.join("/").replace(/\.part\.\d+$/, ""),
    tar: new TextDecoder("latin1").decode(gunzipSync(body)),
  };
}

/** Resolves at the start of the next wall-clock second, so both builds share it. */
function nextSecond(): Promise<void> {
  return new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
}

/** Builds in both workspaces, started together; true when they did share a second. */
async function buildPair(pair: AwsWorkspace[]): Promise<boolean> {
  for (const ws of pair) {
    // The instance root is a different directory for each emulator: a mark of whose bundle it is.
    await writeTemplate(
      ws,
      amazonTemplate(ws, {}, [{
        type: "shell",
        inline: ['echo "built-by:$KILN_INSTANCE_ROOT" > "$KILN_INSTANCE_ROOT/etc/built-by"'],
      }]),
    );
  }
  await nextSecond();
  const results = await Promise.all(pair.map((ws) => kiln(ws, ["build", "template.json"])));
  results.forEach((r, n) => assert.equal(r.code, 0, `build ${n}: ${r.stdout}${r.stderr}`));
  const [a, b] = pair.map(bundledTar);
  return a.prefix === b.prefix;
}

Deno.test("amazon-instance: two builds started in the same second each register their own bundle", async () => {
  // Each kiln process reads the clock when it loads: on a busy machine two
  // started together can still straddle a second, which would prove nothing.
  for (let attempt = 1;; attempt++) {
    const pair = await Promise.all([awsWorkspace(), awsWorkspace()]);
    try {
      if (!await buildPair(pair)) {
        assert.ok(attempt < 3, "three pairs of builds in a row did not start in the same second");
        continue;
      }
      pair.forEach((ws, n) => {
        const own = `built-by:${ws.emulator.instances()[0].rootDir}`;
        const other = `built-by:${pair[1 - n].emulator.instances()[0].rootDir}`;
        const { tar } = bundledTar(ws);
        assert.ok(tar.includes(own), `build ${n}'s AMI holds its own instance's files`);
        assert.ok(!tar.includes(other), `build ${n}'s AMI holds none of the other build's files`);
      });
      return;
    } finally {
      await Promise.all(pair.map((ws) => ws.close()));
    }
  }
});
