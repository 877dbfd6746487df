/** Authentication methods: password, keyboard-interactive, certificates, generated keys. */
import assert from "node:assert/strict";
import { ensurePasswordUser, generateKey, startSshd } from "../support/sshd.ts";
import { openSsh } from "../../communicators/ssh.ts";
import { generateTemporaryKeyPair } from "../../communicators/keys.ts";

const USER = "kilnpw";
const PASSWORD = "correct horse 'battery' staple";

function passwordConnect(port: number, password: string, extra: Record<string, unknown> = {}) {
  return openSsh({
    config: {
      ssh_username: USER,
      ssh_password: password,
      ssh_timeout: 5000,
      ssh_handshake_attempts: 1,
      ...extra,
    },
    target: { host: "127.0.0.1", port },
    signal: new AbortController().signal,
  });
}

async function whoami(comm: Awaited<ReturnType<typeof openSsh>>): Promise<string> {
  let out = "";
  await comm.start({ command: "id -un", stdout: (c) => out += new TextDecoder().decode(c) });
  return out.trim();
}

Deno.test("auth: ssh_password logs in to a password-only server; a wrong one is a clear error", async () => {
  await ensurePasswordUser(USER, PASSWORD);
  const sshd = await startSshd({
    passwordAuth: true,
    extraConfig: ["AuthenticationMethods password"],
  });
  try {
    const comm = await passwordConnect(sshd.port, PASSWORD);
    assert.equal(await whoami(comm), USER);
    await comm.close();
    await assert.rejects(passwordConnect(sshd.port, "wrong-password"), (err: Error) => {
      assert.match(err.message, /authentication as "kilnpw" failed/);
      assert.ok(!err.message.includes("wrong-password"), "the password never appears in errors");
      return true;
    });
  } finally {
    await sshd.stop();
    await Deno.remove(sshd.dir, { recursive: true });
  }
});

Deno.test("auth: the password also answers keyboard-interactive prompts", async () => {
  await ensurePasswordUser(USER, PASSWORD);
  const sshd = await startSshd({
    passwordAuth: true,
    usePam: true,
    extraConfig: ["AuthenticationMethods keyboard-interactive"],
  });
  try {
    const comm = await passwordConnect(sshd.port, PASSWORD);
    assert.equal(await whoami(comm), USER);
    await comm.close();
    assert.match(sshd.log(), /Accepted keyboard-interactive/);
  } finally {
    await sshd.stop();
    await Deno.remove(sshd.dir, { recursive: true });
  }
});

for (const type of ["ed25519", "rsa", "ecdsa"] as const) {
  Deno.test(`auth: ssh_certificate_file presents a CA-signed ${type} certificate`, async () => {
    const dir = await Deno.makeTempDir();
    const ca = await generateKey(dir, "ca");
    const user = await generateKey(dir, "user", type);
    const sign = await new Deno.Command("ssh-keygen", {
      args: [
        "-q",
        "-s",
        ca.privateKeyPath,
        "-I",
        "kiln-test",
        "-n",
        "root",
        "-V",
        "-5m:+1h",
        `${user.privateKeyPath}.pub`,
      ],
      stderr: "piped",
    }).output();
    assert.ok(sign.success, new TextDecoder().decode(sign.stderr));
    await Deno.writeTextFile(`${dir}/ca.pub`, ca.publicKey + "\n");
    // authorized_keys stays empty: only the certificate can get in.
    const sshd = await startSshd({ extraConfig: [`TrustedUserCAKeys ${dir}/ca.pub`] });
    try {
      const base = {
        ssh_username: "root",
        ssh_private_key_file: user.privateKeyPath,
        ssh_timeout: 5000,
        ssh_handshake_attempts: 1,
      };
      const target = { host: "127.0.0.1", port: sshd.port };
      const signal = new AbortController().signal;
      await assert.rejects(
        openSsh({ config: base, target, signal }),
        /authentication as "root" failed/,
      );
      const comm = await openSsh({
        config: { ...base, ssh_certificate_file: `${user.privateKeyPath}-cert.pub` },
        target,
        signal,
      });
      assert.equal(await whoami(comm), "root");
      await comm.close();
      assert.match(
        sshd.log(),
        new RegExp(`Accepted publickey for root .*${type.toUpperCase()}-CERT`),
      );
    } finally {
      await sshd.stop();
      await Deno.remove(sshd.dir, { recursive: true });
      await Deno.remove(dir, { recursive: true });
    }
  });
}

for (
  const [type, bits] of [["rsa", 2048], ["ecdsa", 256], ["ecdsa", 384], ["ecdsa", 521], [
    "ed25519",
    undefined,
  ]] as const
) {
  Deno.test(`keys: a temporary ${type}${bits ? ` ${bits}` : ""} key pair logs in`, async () => {
    const pair = generateTemporaryKeyPair(type, bits, "kiln-temporary");
    assert.match(
      pair.publicKey,
      /^(ssh-rsa|ecdsa-sha2-nistp\d+|ssh-ed25519) [A-Za-z0-9+/=]+ kiln-temporary$/,
    );
    const sshd = await startSshd({ authorizedKeys: [pair.publicKey] });
    try {
      const comm = await openSsh({
        config: { ssh_username: "root", ssh_timeout: 5000, ssh_handshake_attempts: 1 },
        target: { host: "127.0.0.1", port: sshd.port },
        signal: new AbortController().signal,
        privateKey: pair.privateKey,
      });
      assert.equal(await whoami(comm), "root");
      await comm.close();
    } finally {
      await sshd.stop();
      await Deno.remove(sshd.dir, { recursive: true });
    }
  });
}

Deno.test("keys: rsa defaults to 4096 bits; dsa and bad sizes are refused", () => {
  assert.equal(generateTemporaryKeyPair("rsa").bits, 4096);
  assert.throws(() => generateTemporaryKeyPair("dsa"), /dsa keys are insecure/);
  assert.throws(() => generateTemporaryKeyPair("ecdsa", 200), /256, 384 or 521/);
  assert.throws(() => generateTemporaryKeyPair("rsa", 512), /at least 1024/);
});

Deno.test("auth: ssh_clear_authorized_keys removes the temporary key on close", async () => {
  await ensurePasswordUser(USER, PASSWORD);
  const pair = generateTemporaryKeyPair("ed25519", undefined, "kiln-temporary");
  // sshd reads the test's own authorized_keys; the guest's ~/.ssh copy is what gets cleaned.
  const sshd = await startSshd({ authorizedKeys: [pair.publicKey] });
  // sshd reads authorized_keys as the user logging in.
  await Deno.chmod(sshd.dir, 0o755);
  await Deno.chmod(`${sshd.dir}/authorized_keys`, 0o644);
  const home = `/home/${USER}/.ssh`;
  await Deno.mkdir(home, { recursive: true });
  const keysFile = `${home}/authorized_keys`;
  const other =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeepMeKeepMeKeepMeKeepMeKeepMeKeepMeKeep other";
  await Deno.writeTextFile(keysFile, `${other}\n${pair.publicKey}\n`);
  const users = await new Deno.Command("id", { args: ["-u", USER], stdout: "piped" }).output();
  const uid = Number(new TextDecoder().decode(users.stdout));
  await Deno.chown(home, uid, null);
  await Deno.chown(keysFile, uid, null);
  try {
    const comm = await openSsh({
      config: { ssh_username: USER, ssh_clear_authorized_keys: true, ssh_timeout: 5000 },
      target: { host: "127.0.0.1", port: sshd.port },
      signal: new AbortController().signal,
      privateKey: pair.privateKey,
    });
    await comm.close();
    assert.equal(await Deno.readTextFile(keysFile), `${other}\n`);
  } finally {
    await Deno.remove(keysFile).catch(() => {});
    await sshd.stop();
    await Deno.remove(sshd.dir, { recursive: true });
  }
});

Deno.test("a prefetched temporary key is handed out once, and a second request gets a fresh key", async () => {
  const { prefetchTemporaryKeyPair, temporaryKeyPair } = await import(
    "../../communicators/keys.ts"
  );
  prefetchTemporaryKeyPair("ecdsa", 256);
  const first = await temporaryKeyPair("ecdsa", 256, "kiln-a");
  const second = await temporaryKeyPair("ecdsa", 256, "kiln-b");
  assert.match(first.publicKey, /^ecdsa-sha2-nistp256 \S+ kiln-a$/);
  assert.notEqual(first.privateKey, second.privateKey);
  await assert.rejects(() => temporaryKeyPair("dsa"), /dsa keys are insecure/);
});
