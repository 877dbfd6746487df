/**
 * The secret scan finds every sentinel in every shape kiln could write it —
 * plain, JSON-escaped, URL-encoded, base64 at any alignment, hex, UTF-16,
 * inside gzip (multi-member), zip and lz4 files, and private keys by any of
 * their lines or raw bytes — and reports nothing for clean or public data.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { zipSync } from "fflate";
import { isSecretStore, scanForSentinels, SENTINELS } from "../../reliability/secret_scan.ts";
import { lz4Frame } from "../../post_processors/lz4_frame.ts";
import { generateKey } from "../support/sshd.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { secretsEverywhere } from "../../reliability/scenarios/secrets.ts";

const enc = new TextEncoder();
const S = SENTINELS.sshPassword;

async function lz4(bytes: Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (
    const p of lz4Frame((async function* () {
      yield bytes;
    })())
  ) parts.push(p);
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

Deno.test("scan: clean files and texts report nothing", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "a.txt"), "kiln-sentinel- nothing to see <sensitive>\n");
    await Deno.writeFile(join(dir, "b.bin"), crypto.getRandomValues(new Uint8Array(65536)));
    assert.deepEqual(await scanForSentinels([dir], { stdout: "ok <sensitive>" }), []);
  });
});

Deno.test("scan: every encoding of a sentinel is found and named", async () => {
  await withTempDir(async (dir) => {
    const forms: Record<string, string> = {
      "plain.txt": `x${S}y`,
      "json.txt": JSON.stringify({ k: `"${S}"` }),
      "b64-0.txt": btoa(S),
      "b64-1.txt": btoa(`a${S}`),
      "b64-2.txt": btoa(`ab${S}`),
      "b64url.txt": btoa(`?>${S}`).replace(/\+/g, "-").replace(/\//g, "_"),
      "hex.txt": Array.from(enc.encode(S), (b) => b.toString(16).padStart(2, "0")).join(""),
    };
    for (const [name, text] of Object.entries(forms)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    const utf16 = new Uint8Array([...S].flatMap((c) => [c.charCodeAt(0), 0]));
    await Deno.writeFile(join(dir, "utf16.bin"), utf16);
    const hits = await scanForSentinels([dir], {
      url: `https://x/?p=${encodeURIComponent(`${S} &`)}`,
    });
    for (const name of [...Object.keys(forms), "utf16.bin"]) {
      assert.ok(hits.some((h) => h.startsWith(join(dir, name))), `${name} not found in ${hits}`);
    }
    assert.ok(hits.includes("url: sshPassword"), hits.join("\n"));
    assert.ok(hits.some((h) => /b64-1\.txt: sshPassword \(base64\)/.test(h)), hits.join("\n"));
  });
});

Deno.test("scan: sentinels inside gzip (multi-member), zip and lz4 files", async () => {
  await withTempDir(async (dir) => {
    const secret = enc.encode(`..${SENTINELS.awsSecretKey}..`);
    const gz = gzipSync(secret);
    await Deno.writeFile(join(dir, "one.tar.gz"), new Uint8Array(gzipSync(enc.encode("x"))));
    // bgzf-style: the secret is in the second member.
    await Deno.writeFile(
      join(dir, "two.bgzf"),
      new Uint8Array([...gzipSync(enc.encode("a")), ...gz]),
    );
    await Deno.writeFile(join(dir, "a.zip"), zipSync({ "in/side.txt": secret }));
    await Deno.writeFile(join(dir, "a.lz4"), await lz4(secret));
    const hits = await scanForSentinels([dir], {});
    // lz4 keeps literals as they are, so the plain bytes may be found too.
    for (
      const expected of [
        `${join(dir, "a.lz4")} (lz4-decompressed): awsSecretKey`,
        `${join(dir, "a.zip")}!in/side.txt: awsSecretKey`,
        `${join(dir, "two.bgzf")} (gunzipped): awsSecretKey`,
      ]
    ) assert.ok(hits.includes(expected), `${expected} not in ${hits}`);
    assert.ok(!hits.some((h) => h.includes("one.tar.gz")), hits.join("\n"));
  });
});

Deno.test("scan: private key material by any line or its raw bytes, not its public half", async () => {
  await withTempDir(async (dir) => {
    for (const type of ["ed25519", "rsa", "ecdsa"] as const) {
      const key = await generateKey(dir, `k-${type}`, type);
      const pem = await Deno.readTextFile(key.privateKeyPath);
      const lines = pem.trim().split("\n");
      const middle = lines[Math.floor(lines.length / 2)];
      const leak = join(dir, `leak-${type}.json`);
      await Deno.writeTextFile(leak, JSON.stringify({ note: `...${middle}...` }));
      const hits = await scanForSentinels([leak, `${key.privateKeyPath}.pub`], {
        escaped: JSON.stringify(pem),
      }, { privateKey: pem });
      assert.ok(
        hits.some((h) => h.startsWith(`${leak}: privateKey (key line`)),
        `${type}: ${hits}`,
      );
      assert.ok(hits.some((h) => h.startsWith("escaped: privateKey")), `${type}: ${hits}`);
      // The public key is written legitimately (key pair import, authorized_keys).
      assert.ok(!hits.some((h) => h.includes(".pub")), `${type}: public key flagged: ${hits}`);
    }
  });
});

Deno.test("scan: the secret store is skipped until the run has ended", async () => {
  await withTempDir(async (dir) => {
    const store = join(dir, "runs", "20261122T000000Z-abcdef", "secrets");
    await Deno.mkdir(store, { recursive: true });
    await Deno.writeTextFile(join(store, "inputs.json"), SENTINELS.sensitiveVariable);
    assert.ok(isSecretStore(store));
    assert.deepEqual(await scanForSentinels([dir], {}), []);
    assert.deepEqual(await scanForSentinels([dir], {}, {}, { includeSecretStore: true }), [
      `${join(store, "inputs.json")}: sensitiveVariable`,
    ]);
  });
});

Deno.test("scan: a sentinel across the scanner's chunk border in a large file", async () => {
  await withTempDir(async (dir) => {
    const big = new Uint8Array((8 << 20) + 64);
    big.set(enc.encode(SENTINELS.winrmPassword), (8 << 20) - 10);
    await Deno.writeFile(join(dir, "big.bin"), big);
    assert.deepEqual(await scanForSentinels([dir], {}), [`${join(dir, "big.bin")}: winrmPassword`]);
  });
});

Deno.test("secrets: sentinels planted in local and SSH-password builds never reach any byte written", async () => {
  const rows = await secretsEverywhere.run("fast");
  assert.ok(rows.length >= 2);
  for (const r of rows) {
    assert.equal(r.trials, 4, r.scenario);
    assert.equal(r.passed, r.trials, `${r.scenario}:\n${r.failures.join("\n")}`);
  }
});
