/** Running commands over SSH: output, exit status, pty, cancellation, reconnection. */
import assert from "node:assert/strict";
import { DisconnectedError } from "../../communicators/communicator.ts";
import { startLab, withConnectedLab } from "./helpers.ts";
import { waitForPath, withAgentEnv } from "./agent.ts";

const text = (chunks: Uint8Array[]) =>
  new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));

Deno.test("exec: stdout, stderr and the exit status come back separately", () =>
  withConnectedLab(async (_lab, comm) => {
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const result = await comm.start({
      command: "echo to-out; echo to-err >&2; exit 7",
      stdout: (c) => out.push(c),
      stderr: (c) => err.push(c),
    });
    assert.equal(result.exitStatus, 7);
    assert.equal(text(out), "to-out\n");
    assert.equal(text(err), "to-err\n");
  }));

/** Blocks the event loop, as a client busy with other builds does. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spinning */ }
}

Deno.test("exec: a command that ends at once still reports its exit status, not a dropped link", () =>
  withConnectedLab(async (_lab, comm) => {
    // Its status can arrive in the same read as the channel itself; a busy
    // client makes that likely.
    for (let n = 0; n < 20; n++) {
      for (const [command, expected] of [["exit 7", 7], ["true", 0]] as const) {
        assert.equal((await comm.start({ command })).exitStatus, expected, `${command}, run ${n}`);
        const running = comm.start({ command });
        setTimeout(() => busy(50), 0);
        assert.equal((await running).exitStatus, expected, `${command} (busy), run ${n}`);
      }
    }
  }));

Deno.test("exec: ssh_pty gives the command a terminal", async () => {
  const lab = await startLab();
  const withPty = await lab.connect({ ssh_pty: true });
  const without = await lab.connect();
  try {
    const run = async (c: typeof withPty) => {
      const out: Uint8Array[] = [];
      await c.start({ command: "test -t 1 && echo tty || echo notty", stdout: (x) => out.push(x) });
      return text(out).trim();
    };
    assert.equal(await run(withPty), "tty");
    assert.equal(await run(without), "notty");
  } finally {
    await withPty.close();
    await without.close();
    await lab.dispose();
  }
});

Deno.test("exec: aborting kills a hanging command", () =>
  withConnectedLab(async (_lab, comm) => {
    const ac = new AbortController();
    const started = comm.start({ command: "sleep 30", signal: ac.signal });
    setTimeout(() => ac.abort(new Error("provisioner timeout")), 300);
    await assert.rejects(started, /provisioner timeout/);
    const after = await comm.start({ command: "echo alive" });
    assert.equal(after.exitStatus, 0, "the connection stays usable");
  }));

Deno.test("exec: a reboot mid-command yields -1, and the next call reconnects", () =>
  withConnectedLab(async (lab, comm) => {
    let up = false;
    const running = comm.start({ command: "echo up; sleep 20", stdout: () => up = true });
    while (!up) await new Promise((r) => setTimeout(r, 20));
    await lab.sshd.stop();
    assert.equal((await running).exitStatus, -1);
    await assert.rejects(comm.start({ command: "true" }), DisconnectedError);
    await lab.sshd.start();
    const out: Uint8Array[] = [];
    const again = await comm.start({ command: "echo back", stdout: (c) => out.push(c) });
    assert.equal(again.exitStatus, 0);
    assert.equal(text(out), "back\n");
  }));

Deno.test("exec: ssh_disable_agent_forwarding decides whether the agent reaches the machine", async () => {
  const lab = await startLab();
  const agent = new Deno.Command("ssh-agent", { args: ["-D", "-a", `${lab.dir}/agent.sock`] })
    .spawn();
  try {
    await waitForPath(`${lab.dir}/agent.sock`);
    const add = await new Deno.Command("ssh-add", {
      args: [lab.key.privateKeyPath],
      env: { SSH_AUTH_SOCK: `${lab.dir}/agent.sock` },
      stderr: "null",
    }).output();
    assert.ok(add.success);
    await withAgentEnv(`${lab.dir}/agent.sock`, async () => {
      const forwarded = await lab.connect({
        ssh_agent_auth: true,
        ssh_private_key_file: undefined,
      });
      const plain = await lab.connect({
        ssh_agent_auth: true,
        ssh_private_key_file: undefined,
        ssh_disable_agent_forwarding: true,
      });
      const probe = async (c: typeof plain) => {
        const out: Uint8Array[] = [];
        await c.start({
          command: 'test -n "$SSH_AUTH_SOCK" && echo yes || echo no',
          stdout: (x) => out.push(x),
        });
        return text(out).trim();
      };
      assert.equal(await probe(forwarded), "yes", "agent auth worked and the agent is forwarded");
      assert.equal(await probe(plain), "no");
      await forwarded.close();
      await plain.close();
    });
  } finally {
    agent.kill();
    await agent.status;
    await lab.dispose();
  }
});
