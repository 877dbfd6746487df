/**
 * Run keys wrapped by KMS instead of a team key file: the real AWS SDK's
 * KMS client against the project's KMS emulator. Another runner reads the
 * run through KMS; a key KMS will no longer use locks every runner out.
 */
import assert from "node:assert/strict";
import { startKmsEmulator } from "../support/kms/mod.ts";
import { runIdOf, startStoreLab, writeStoreTemplate } from "../support/store_lab.ts";

Deno.test("with KILN_STORE_KMS_KEY_ID, KMS wraps each run's key: other runners read through KMS; a disabled key is refused clearly", async () => {
  const lab = await startStoreLab();
  const kms = await startKmsEmulator();
  try {
    const keyId = kms.createKey();
    const env = {
      KILN_STORE_KEY_FILE: "",
      KILN_STORE_KMS_KEY_ID: keyId,
      KILN_STORE_KMS_ENDPOINT: kms.endpoint,
    };
    const template = await writeStoreTemplate(lab.dir, 0);
    const a = await lab.kiln("a", ["build", template], {
      ...env,
      KILN_CRASH_AFTER: "ProvisionerSucceeded",
    });
    assert.equal(a.signal, "SIGKILL");
    const id = runIdOf(a.stdout + a.stderr);
    const meta = JSON.parse(
      new TextDecoder().decode(lab.objects().get(`${lab.prefix}${id}/run.json`)!),
    );
    assert.equal(meta.key.alg, "KMS");
    assert.equal(meta.key.keyId, keyId);
    assert.ok(kms.calls.get("Encrypt")! >= 1);

    const resumed = await lab.kiln("b", ["build", "--resume", id], env);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.ok(kms.calls.get("Decrypt")! >= 1);

    kms.disableKey(keyId);
    const locked = await lab.kiln("c", ["replay", id], env);
    assert.notEqual(locked.code, 0);
    assert.match(locked.stderr, /KMS would not unwrap its key \(DisabledException/);
    const fresh = await lab.kiln("c", ["build", template], env);
    assert.notEqual(fresh.code, 0);
    assert.match(fresh.stderr + fresh.stdout, /KMS would not wrap run .* key/);
  } finally {
    await kms.close();
    await lab.close();
  }
});
