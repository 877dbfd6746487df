/** Reaching the machine indirectly (bastion, SOCKS5 proxy) and tunnelling through it. */
import assert from "node:assert/strict";
import { ensurePasswordUser, generateKey, startSshd } from "../support/sshd.ts";
import { startSocks5 } from "../support/socks5.ts";
import type { openSsh } from "../../communicators/ssh.ts";
import { startLab } from "./helpers.ts";
import { waitForPath, withAgentEnv } from "./agent.ts";

async function runsTrue(comm: Awaited<ReturnType<typeof openSsh>>): Promise<number> {
  return (await comm.start({ command: "true" })).exitStatus;
}

Deno.test("bastion: ssh_bastion_* with a key, then with a password", async () => {
  const lab = await startLab();
  const bastionKey = await generateKey(lab.dir, "bastion");
  const bastion = await startSshd({ authorizedKeys: [bastionKey.publicKey] });
  await ensurePasswordUser("kilnpw", "bastion pass");
  const pwBastion = await startSshd({ passwordAuth: true, usePam: true });
  try {
    const viaKey = await lab.connect({
      ssh_bastion_host: "127.0.0.1",
      ssh_bastion_port: bastion.port,
      ssh_bastion_username: "root",
      ssh_bastion_private_key_file: bastionKey.privateKeyPath,
    });
    assert.equal(await runsTrue(viaKey), 0);
    await viaKey.close();
    assert.match(bastion.log(), /Accepted publickey for root/);

    const viaPassword = await lab.connect({
      ssh_bastion_host: "127.0.0.1",
      ssh_bastion_port: pwBastion.port,
      ssh_bastion_username: "kilnpw",
      ssh_bastion_password: "bastion pass",
      ssh_bastion_interactive: true,
    });
    assert.equal(await runsTrue(viaPassword), 0);
    await viaPassword.close();
    assert.match(pwBastion.log(), /Accepted (keyboard-interactive|password) for kilnpw/);

    await assert.rejects(
      lab.connect({
        ssh_bastion_host: "127.0.0.1",
        ssh_bastion_port: bastion.port,
        ssh_bastion_username: "root",
        ssh_bastion_password: "nope",
        ssh_handshake_attempts: 1,
      }),
      /ssh handshake with bastion 127\.0\.0\.1:\d+: authentication as "root" failed/,
    );
  } finally {
    for (const s of [bastion, pwBastion]) {
      await s.stop();
      await Deno.remove(s.dir, { recursive: true });
    }
    await lab.dispose();
  }
});

Deno.test("proxy: ssh_proxy_* connects through SOCKS5, with and without credentials", async () => {
  const lab = await startLab();
  const open = startSocks5();
  const guarded = startSocks5({ username: "alice", password: "s3cret" });
  try {
    const plain = await lab.connect({ ssh_proxy_host: "127.0.0.1", ssh_proxy_port: open.port });
    assert.equal(await runsTrue(plain), 0);
    await plain.close();
    assert.equal(open.relayed(), 1);

    const authed = await lab.connect({
      ssh_proxy_host: "127.0.0.1",
      ssh_proxy_port: guarded.port,
      ssh_proxy_username: "alice",
      ssh_proxy_password: "s3cret",
    });
    assert.equal(await runsTrue(authed), 0);
    await authed.close();
    assert.equal(guarded.relayed(), 1);

    await assert.rejects(
      lab.connect({
        ssh_proxy_host: "127.0.0.1",
        ssh_proxy_port: guarded.port,
        ssh_proxy_username: "alice",
        ssh_proxy_password: "wrong",
        ssh_timeout: 500,
      }),
      /rejected ssh_proxy_username\/password/,
    );
    await assert.rejects(
      lab.connect({ ssh_proxy_host: "127.0.0.1", ssh_proxy_port: guarded.port, ssh_timeout: 500 }),
      /requires authentication/,
    );
  } finally {
    await open.stop();
    await guarded.stop();
    await lab.dispose();
  }
});

Deno.test("tunnels: ssh_local_tunnels and ssh_remote_tunnels carry TCP both ways", async () => {
  const lab = await startLab();
  // A small echo service on loopback stands in for a database or package mirror.
  const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const echoPort = (echo.addr as Deno.NetAddr).port;
  const served = (async () => {
    for await (const conn of echo) {
      (async () => {
        const buf = new Uint8Array(64);
        const n = await conn.read(buf);
        if (n) {
          await conn.write(
            new TextEncoder().encode(`echo:${new TextDecoder().decode(buf.subarray(0, n))}`),
          );
        }
        conn.close();
      })().catch(() => {});
    }
  })().catch(() => {});
  const localPort = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  })();
  const remotePort = localPort + 1 > 65000 ? localPort - 1 : localPort + 1;
  const comm = await lab.connect({
    ssh_local_tunnels: [`${localPort}:127.0.0.1:${echoPort}`],
    ssh_remote_tunnels: [`${remotePort}:127.0.0.1:${echoPort}`],
  });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: localPort });
    await conn.write(new TextEncoder().encode("local"));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    conn.close();
    assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "echo:local");

    // The machine connects to its own port; the bytes come back to our echo service.
    let out = "";
    const result = await comm.start({
      command: `exec 3<>/dev/tcp/127.0.0.1/${remotePort}; printf remote >&3; cat <&3`,
      stdout: (c) => out += new TextDecoder().decode(c),
    });
    assert.equal(out, "echo:remote", `exit ${result.exitStatus}`);
  } finally {
    await comm.close();
    echo.close();
    await served;
    await lab.dispose();
  }
});

Deno.test("bastion: ssh_bastion_agent_auth signs with the local agent's key", async () => {
  const lab = await startLab();
  const bastionKey = await generateKey(lab.dir, "bastion-agent");
  const bastion = await startSshd({ authorizedKeys: [bastionKey.publicKey] });
  const sock = `${lab.dir}/agent.sock`;
  const agent = new Deno.Command("ssh-agent", { args: ["-D", "-a", sock], stdout: "null" }).spawn();
  try {
    await waitForPath(sock);
    const add = await new Deno.Command("ssh-add", {
      args: [bastionKey.privateKeyPath],
      env: { SSH_AUTH_SOCK: sock },
      stderr: "null",
    }).output();
    assert.ok(add.success);
    await withAgentEnv(sock, async () => {
      const comm = await lab.connect({
        ssh_bastion_host: "127.0.0.1",
        ssh_bastion_port: bastion.port,
        ssh_bastion_username: "root",
        ssh_bastion_agent_auth: true,
        ssh_disable_agent_forwarding: true,
      });
      assert.equal(await runsTrue(comm), 0);
      await comm.close();
    });
    assert.match(bastion.log(), /Accepted publickey for root/);
  } finally {
    agent.kill();
    await agent.status;
    await bastion.stop();
    await Deno.remove(bastion.dir, { recursive: true });
    await lab.dispose();
  }
});
