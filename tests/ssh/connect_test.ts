/** Connecting: waiting for the machine, timeouts, handshakes, algorithms, clear auth errors. */
import assert from "node:assert/strict";
import net from "node:net";
import { freePort, generateKey, startSshd } from "../support/sshd.ts";
import { openSsh } from "../../communicators/ssh.ts";
import { startLab } from "./helpers.ts";

function connectTo(
  port: number,
  config: Record<string, unknown>,
  signal = new AbortController().signal,
) {
  return openSsh({
    config: { ssh_username: "root", ssh_timeout: 2000, ...config },
    target: { host: "127.0.0.1", port },
    signal,
  });
}

Deno.test("connect: a host that never comes up fails when ssh_timeout expires", async () => {
  const port = freePort();
  await assert.rejects(
    connectTo(port, { ssh_password: "x", ssh_timeout: 700 }),
    (err: Error) => {
      assert.match(err.message, /timeout waiting for SSH on 127\.0\.0\.1:\d+/);
      assert.match(err.message, /ECONNREFUSED|refused/i);
      return true;
    },
  );
});

Deno.test("connect: waits while the machine boots, then connects", async () => {
  const dir = await Deno.makeTempDir();
  const key = await generateKey(dir, "c");
  const port = freePort();
  const says: string[] = [];
  const pending = openSsh({
    config: { ssh_username: "root", ssh_private_key_file: key.privateKeyPath, ssh_timeout: 20_000 },
    target: { host: "127.0.0.1", port },
    signal: new AbortController().signal,
    say: (m) => says.push(m),
  });
  await new Promise((r) => setTimeout(r, 600));
  const sshd = await startSshd({ authorizedKeys: [key.publicKey], port });
  try {
    const comm = await pending;
    assert.equal((await comm.start({ command: "true" })).exitStatus, 0);
    await comm.close();
    assert.ok(says.includes("Waiting for SSH to become available..."));
  } finally {
    await sshd.stop();
    await Deno.remove(sshd.dir, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connect: cancelling stops the wait at once", async () => {
  const ac = new AbortController();
  const pending = connectTo(freePort(), { ssh_password: "x", ssh_timeout: 60_000 }, ac.signal);
  setTimeout(() => ac.abort(new Error("build cancelled")), 200);
  await assert.rejects(pending, /build cancelled/);
});

Deno.test("connect: a wrong key is a clear authentication error after ssh_handshake_attempts", async () => {
  const lab = await startLab();
  try {
    const other = await generateKey(lab.dir, "stranger");
    await assert.rejects(
      lab.connect({ ssh_private_key_file: other.privateKeyPath, ssh_handshake_attempts: 2 }),
      (err: Error) => {
        assert.match(err.message, /authentication as "root" failed \(offered: publickey\)/);
        assert.match(err.message, /after 2 handshake attempts/);
        return true;
      },
    );
    const count = () => (lab.sshd.log().match(/Failed publickey for root/g) ?? []).length;
    for (let i = 0; i < 50 && count() < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const attempts = { length: count() };
    assert.equal(attempts.length, 2);
  } finally {
    await lab.dispose();
  }
});

Deno.test("connect: a port forward that resets until sshd listens is waited out, not counted as handshakes", async () => {
  // As qemu's user-mode network does: the forwarded port accepts at once, and resets
  // (or closes) each connection until the guest's sshd listens.
  const lab = await startLab();
  const port = freePort();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    if (accepted <= 2) return client.resetAndDestroy();
    if (accepted <= 4) return client.destroy();
    const upstream = net.connect({ host: "127.0.0.1", port: lab.sshd.port });
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  try {
    const comm = await openSsh({
      config: { ...lab.config({ ssh_handshake_attempts: 1 }), ssh_port: port },
      target: { host: "127.0.0.1", port },
      signal: new AbortController().signal,
    });
    assert.equal((await comm.start({ command: "true" })).exitStatus, 0);
    await comm.close();
    assert.ok(accepted >= 5, `${accepted} connections`);
  } finally {
    await new Promise((r) => server.close(r));
    await lab.dispose();
  }
});

Deno.test("connect: an unreadable ssh_private_key_file names the option", async () => {
  await assert.rejects(
    connectTo(freePort(), { ssh_private_key_file: "/nonexistent/key" }),
    /ssh_private_key_file: cannot read "\/nonexistent\/key": no such file/,
  );
});

Deno.test("connect: ~ in ssh_private_key_file is the home directory", async () => {
  const lab = await startLab();
  const home = Deno.env.get("HOME") ?? "/root";
  const rel = `.kiln-test-key-${crypto.randomUUID()}`;
  await Deno.copyFile(lab.key.privateKeyPath, `${home}/${rel}`);
  try {
    const comm = await lab.connect({ ssh_private_key_file: `~/${rel}` });
    assert.equal((await comm.start({ command: "true" })).exitStatus, 0);
    await comm.close();
  } finally {
    await Deno.remove(`${home}/${rel}`);
    await lab.dispose();
  }
});

Deno.test("connect: ssh_ciphers and ssh_key_exchange_algorithms restrict what is offered", async () => {
  const lab = await startLab({
    extraConfig: ["Ciphers aes256-ctr", "KexAlgorithms ecdh-sha2-nistp256"],
  });
  try {
    const ok = await lab.connect({
      ssh_ciphers: ["aes256-ctr"],
      ssh_key_exchange_algorithms: ["ecdh-sha2-nistp256"],
    });
    assert.equal((await ok.start({ command: "true" })).exitStatus, 0);
    await ok.close();
    await assert.rejects(
      lab.connect({ ssh_ciphers: ["aes128-ctr"], ssh_handshake_attempts: 1 }),
      /ssh handshake with 127\.0\.0\.1:\d+: .*(cipher|matching)/i,
    );
    await assert.rejects(
      lab.connect({
        ssh_key_exchange_algorithms: ["curve25519-sha256"],
        ssh_handshake_attempts: 1,
      }),
      /ssh handshake with 127\.0\.0\.1:\d+: .*(kex|key exchange|matching)/i,
    );
  } finally {
    await lab.dispose();
  }
});

Deno.test("connect: pause_before_connecting connects, disconnects, waits and reconnects", async () => {
  const lab = await startLab();
  try {
    const comm = await lab.connect({ pause_before_connecting: 300 });
    assert.equal((await comm.start({ command: "true" })).exitStatus, 0);
    await comm.close();
    const logins = lab.sshd.log().match(/Accepted publickey/g) ?? [];
    assert.equal(logins.length, 2);
  } finally {
    await lab.dispose();
  }
});

Deno.test("connect: ssh_read_write_timeout drops a connection that stays silent", async () => {
  const lab = await startLab();
  try {
    const comm = await lab.connect({ ssh_read_write_timeout: 400, ssh_keep_alive_interval: -1000 });
    const result = await comm.start({ command: "sleep 3" });
    assert.equal(result.exitStatus, -1, "the silent connection was cut");
    await comm.close();
    const kept = await lab.connect({ ssh_read_write_timeout: 0 });
    assert.equal((await kept.start({ command: "sleep 1" })).exitStatus, 0);
    await kept.close();
  } finally {
    await lab.dispose();
  }
});

Deno.test("connect: keep-alives keep a silent command's connection within ssh_read_write_timeout", async () => {
  const lab = await startLab();
  try {
    const comm = await lab.connect({ ssh_read_write_timeout: 600, ssh_keep_alive_interval: 100 });
    assert.equal((await comm.start({ command: "sleep 1.5" })).exitStatus, 0);
    await comm.close();
  } finally {
    await lab.dispose();
  }
});
