/**
 * kiln's WinRM communicator against the test listener (which pywinrm vouches
 * for in server_test.ts): authentication, TLS, waiting, commands, abort,
 * and the reboot a windows-restart provisioner rides out.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { openWinrm } from "../../communicators/winrm.ts";
import { DisconnectedError } from "../../communicators/communicator.ts";
import { startWinrmServer, type WinrmServer } from "../support/winrm/server.ts";
import { freePort } from "../support/sshd.ts";
import { powershellThenSh } from "../support/winrm/sh_fallback.ts";

const shOnly = powershellThenSh;

function config(s: WinrmServer, extra: Record<string, unknown> = {}) {
  return {
    winrm_username: s.username,
    winrm_password: s.password,
    winrm_use_ssl: s.url.startsWith("https:"),
    ...extra,
  };
}

async function open(
  s: WinrmServer,
  extra: Record<string, unknown> = {},
  signal = new AbortController().signal,
) {
  return await openWinrm({
    config: config(s, extra),
    target: { host: s.host, port: s.port },
    signal,
  });
}

async function run(comm: Awaited<ReturnType<typeof open>>, command: string) {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const { exitStatus } = await comm.start({
    command,
    stdout: (c) => out.push(c),
    stderr: (c) => err.push(c),
  });
  return {
    exitStatus,
    stdout: Buffer.concat(out),
    stderr: Buffer.concat(err).toString("utf8"),
  };
}

async function withServer(
  options: Parameters<typeof startWinrmServer>[0],
  fn: (s: WinrmServer) => Promise<void>,
) {
  const server = await startWinrmServer({ emulator: shOnly, ...options });
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

for (const ntlm of [false, true]) {
  const scheme = ntlm ? "ntlm" : "basic";
  Deno.test(`winrm (${scheme}): runs commands with output and exit codes`, async () => {
    await withServer({ auth: [scheme] }, async (s) => {
      const comm = await open(s, { winrm_use_ntlm: ntlm });
      try {
        const ok = await run(comm, "echo hello; echo warn >&2");
        assert.equal(ok.exitStatus, 0);
        assert.equal(ok.stdout.toString(), "hello\n");
        assert.equal(ok.stderr, "warn\n");
        assert.equal((await run(comm, "exit 3")).exitStatus, 3);
        assert.equal((await run(comm, "exit 255")).exitStatus, 255);
        // One shell serves every command (Packer opens one per command).
        assert.equal(s.stats.actions.Create, 1);
      } finally {
        await comm.close();
      }
      assert.equal(s.stats.actions.Delete, 1);
    });
  });

  Deno.test(`winrm (${scheme}): a wrong password fails at once with a clear error`, async () => {
    await withServer({ auth: [scheme] }, async (s) => {
      const started = Date.now();
      await assert.rejects(
        open(s, { winrm_use_ntlm: ntlm, winrm_password: "not-the-password" }),
        (err: Error) => {
          assert.equal(
            err.message,
            `WinRM authentication failed for user vagrant at 127.0.0.1:${s.port} (${scheme})`,
          );
          assert.ok(!err.message.includes("not-the-password"));
          return true;
        },
      );
      // Not retried until winrm_timeout (30 minutes by default).
      assert.ok(Date.now() - started < 60_000);
    });
  });
}

Deno.test("winrm: NTLM-only listener refuses basic auth", async () => {
  await withServer({ auth: ["ntlm"] }, async (s) => {
    await assert.rejects(open(s), /authentication failed for user vagrant .* \(basic\)/);
  });
});

Deno.test("winrm over HTTPS: a self-signed certificate is refused unless winrm_insecure", async () => {
  await withServer({ https: true }, async (s) => {
    await assert.rejects(
      open(s, { winrm_timeout: "5m" }),
      /TLS certificate of 127\.0\.0\.1:\d+ refused: .*self-signed.*winrm_insecure/,
    );
    const comm = await open(s, { winrm_insecure: true, winrm_use_ntlm: true });
    try {
      assert.equal((await run(comm, "echo secure")).stdout.toString(), "secure\n");
    } finally {
      await comm.close();
    }
  });
});

Deno.test("winrm: winrm_timeout bounds the wait when nothing listens", async () => {
  const port = freePort();
  const started = Date.now();
  await assert.rejects(
    openWinrm({
      config: { winrm_username: "u", winrm_password: "p", winrm_timeout: "1500ms" },
      target: { host: "127.0.0.1", port },
      signal: new AbortController().signal,
    }),
    new RegExp(
      `timeout waiting for WinRM on 127\\.0\\.0\\.1:${port} \\(winrm_timeout 1500 ms\\); ` +
        "last error: dial tcp .*ECONNREFUSED|refused",
    ),
  );
  assert.ok(Date.now() - started >= 1500);
});

Deno.test("winrm: the abort signal stops the wait for a machine", async () => {
  const ctl = new AbortController();
  const waiting = openWinrm({
    config: { winrm_username: "u", winrm_password: "p" },
    target: { host: "127.0.0.1", port: freePort() },
    signal: ctl.signal,
  });
  setTimeout(() => ctl.abort(new Error("build cancelled")), 300);
  await assert.rejects(waiting, /build cancelled/);
});

Deno.test("winrm: keeps trying until a late machine answers", async () => {
  const port = freePort();
  const said: string[] = [];
  const opening = openWinrm({
    config: { winrm_username: "vagrant", winrm_password: "vagrant", winrm_timeout: "2m" },
    target: { host: "127.0.0.1", port },
    signal: new AbortController().signal,
    say: (m) => said.push(m),
  });
  await new Promise((r) => setTimeout(r, 1500));
  const s = await startWinrmServer({ port, emulator: shOnly });
  try {
    const comm = await opening;
    try {
      assert.equal((await run(comm, "echo late")).stdout.toString(), "late\n");
    } finally {
      await comm.close();
    }
    assert.deepEqual(said, ["Waiting for WinRM to become available...", "Connected to WinRM!"]);
  } finally {
    await s.stop();
  }
});

Deno.test("winrm: pause_before_connecting reconnects after the pause", async () => {
  await withServer({}, async (s) => {
    const said: string[] = [];
    const comm = await openWinrm({
      config: config(s, { pause_before_connecting: "200ms" }),
      target: { host: s.host, port: s.port },
      signal: new AbortController().signal,
      say: (m) => said.push(m),
    });
    try {
      assert.deepEqual(said, [
        "Waiting for WinRM to become available...",
        "Pausing 0.2s before connecting...",
        "Connected to WinRM!",
      ]);
      // The first shell was deleted before the pause; the second serves the build.
      assert.equal(s.stats.actions.Create, 2);
      assert.equal(s.stats.actions.Delete, 1);
    } finally {
      await comm.close();
    }
  });
});

Deno.test("winrm: several MiB of output arrive streamed and exact", async () => {
  await withServer({}, async (s) => {
    const comm = await open(s);
    try {
      const made = await run(comm, "head -c 6291456 /dev/urandom > out.bin && sha256sum out.bin");
      assert.equal(made.exitStatus, 0, made.stderr);
      const chunks: number[] = [];
      const out: Uint8Array[] = [];
      const { exitStatus } = await comm.start({
        command: "cat out.bin",
        stdout: (c) => {
          chunks.push(c.length);
          out.push(c);
        },
      });
      assert.equal(exitStatus, 0);
      const bytes = Buffer.concat(out);
      assert.equal(bytes.length, 6291456);
      const digest = Buffer.from(await crypto.subtle.digest("SHA-256", bytes)).toString("hex");
      assert.equal(made.stdout.toString().split(" ")[0], digest);
      assert.ok(chunks.length > 1, "output came in pieces as it was produced");
    } finally {
      await comm.close();
    }
  });
});

Deno.test("winrm: aborting a command terminates it on the machine", async () => {
  await withServer({}, async (s) => {
    const comm = await open(s);
    try {
      const ctl = new AbortController();
      const marker = `${s.root}/C/Users/vagrant/done`;
      const running = comm.start({
        command: "sleep 2 && touch done",
        signal: ctl.signal,
      });
      await new Promise((r) => setTimeout(r, 500));
      ctl.abort(new Error("provisioner cancelled"));
      await assert.rejects(running, /provisioner cancelled/);
      assert.ok((s.stats.actions.Signal ?? 0) >= 1, "a terminate Signal was sent");
      // Had the command survived, it would have written its marker by now.
      await new Promise((r) => setTimeout(r, 2500));
      await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
      // The shell is still usable afterwards.
      assert.equal((await run(comm, "echo after")).stdout.toString(), "after\n");
    } finally {
      await comm.close();
    }
  });
});

Deno.test("winrm: a reboot surfaces as DisconnectedError, then the machine is reachable again", async () => {
  await withServer({}, async (s) => {
    const comm = await open(s);
    try {
      assert.equal((await run(comm, "echo before")).exitStatus, 0);
      const restarted = s.restart(1500);
      await new Promise((r) => setTimeout(r, 100)); // the listener is down now
      let reached = false;
      let disconnects = 0;
      for (let i = 0; i < 100 && !reached; i++) {
        try {
          reached = (await run(comm, "echo back")).stdout.toString() === "back\n";
        } catch (err) {
          assert.ok(err instanceof DisconnectedError, String(err));
          assert.match(err.message, /running a command over WinRM: dial tcp 127\.0\.0\.1:\d+/);
          disconnects++;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await restarted;
      assert.ok(disconnects > 0, "the restart was noticed");
      assert.ok(reached, "the communicator reconnected after the restart");
    } finally {
      await comm.close();
    }
  });
});

Deno.test("winrm: a shell lost to a quick service restart is replaced transparently", async () => {
  await withServer({}, async (s) => {
    const comm = await open(s);
    try {
      assert.equal((await run(comm, "echo one")).exitStatus, 0);
      await s.restart(200);
      assert.equal((await run(comm, "echo two")).stdout.toString(), "two\n");
      assert.equal(s.stats.actions.Create, 2, "one new shell replaced the lost one");
    } finally {
      await comm.close();
    }
  });
});

Deno.test("winrm: waits for PowerShell to answer, as Packer's connect check does, and prints its echo", async () => {
  let attempts = 0;
  const s = await startWinrmServer({
    emulator: (line, io) => {
      if (!/^powershell\.exe -EncodedCommand /.test(line)) return Promise.resolve(undefined);
      // PowerShell is not up on the first try (a machine still booting).
      if (++attempts === 1) return Promise.resolve(1);
      return powershellThenSh(line, io);
    },
  });
  try {
    const said: string[] = [];
    const printed: string[] = [];
    const comm = await openWinrm({
      config: config(s),
      target: { host: s.host, port: s.port },
      signal: new AbortController().signal,
      say: (m) => said.push(m),
      message: (m) => printed.push(m),
    });
    await comm.close();
    assert.equal(attempts, 2);
    assert.deepEqual(printed, ["WinRM connected."]);
    assert.deepEqual(said, ["Waiting for WinRM to become available...", "Connected to WinRM!"]);
  } finally {
    await s.stop();
  }
});

Deno.test("winrm: a machine whose PowerShell never answers fails at winrm_timeout", async () => {
  const s = await startWinrmServer({ emulator: () => Promise.resolve(1) });
  try {
    await assert.rejects(
      openWinrm({
        config: config(s, { winrm_timeout: "3s" }),
        target: { host: s.host, port: s.port },
        signal: new AbortController().signal,
      }),
      /timeout waiting for PowerShell over WinRM .*the check exited 1/,
    );
  } finally {
    await s.stop();
  }
});
