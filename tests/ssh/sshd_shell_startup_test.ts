/**
 * The test sshd runs a command through the login user's own shell, as any
 * sshd does, but bash does not read ~/.bashrc for it (root's here runs
 * `pyenv init`: 0.2-0.6 s per remote command no test is about). The session
 * starts with SHLVL=1, so bash does not take itself for the top-level shell
 * sshd started. A user with bash and a .bashrc that leaves a mark shows both
 * sides: no mark with the test sshd's environment, a mark without it.
 */
import assert from "node:assert/strict";
import { ensurePasswordUser, type SshdOptions, startSshd } from "../support/sshd.ts";
import { openSsh } from "../../communicators/ssh.ts";

const USER = "kilnbashrc";
// The authorized_keys file is root's (0600): another user logs in with a password.
const PASSWORD = crypto.randomUUID();

async function bashUser(): Promise<string> {
  await ensurePasswordUser(USER, PASSWORD);
  const usermod = await new Deno.Command("usermod", { args: ["-s", "/bin/bash", USER] }).output();
  assert.ok(usermod.success, "usermod -s /bin/bash");
  const home = `/home/${USER}`;
  await Deno.writeTextFile(`${home}/.bashrc`, 'echo "$$" >> "$HOME/bashrc-reads"\n');
  await Deno.remove(`${home}/bashrc-reads`).catch(() => {});
  return home;
}

/** Runs `command` as the bash user over kiln's SSH communicator; returns its stdout. */
async function runAs(options: SshdOptions, command: string): Promise<string> {
  const sshd = await startSshd({ ...options, passwordAuth: true });
  try {
    const comm = await openSsh({
      config: { ssh_username: USER, ssh_password: PASSWORD, ssh_timeout: 5000 },
      target: { host: "127.0.0.1", port: sshd.port },
      signal: new AbortController().signal,
    });
    let out = "";
    let err = "";
    const status = await comm.start({
      command,
      stdout: (c) => out += new TextDecoder().decode(c),
      stderr: (c) => err += new TextDecoder().decode(c),
    });
    await comm.close();
    assert.equal(
      status.exitStatus,
      0,
      `${command}: status ${status.exitStatus}, out ${out}, err ${err}`,
    );
    return out.trim();
  } finally {
    await sshd.stop();
    await Deno.remove(sshd.dir, { recursive: true }).catch(() => {});
  }
}

async function reads(home: string): Promise<number> {
  try {
    return (await Deno.readTextFile(`${home}/bashrc-reads`)).split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

Deno.test("test sshd: a remote command runs in the user's bash without reading ~/.bashrc", async () => {
  const home = await bashUser();
  const out = await runAs(
    { env: { KILN_PROBE: "yes" } },
    'echo "$0 ${BASH_VERSION%%.*} $KILN_PROBE"',
  );
  assert.match(out, /^bash \d+ yes$/, "the user's bash ran the command, with the session's env");
  assert.equal(await reads(home), 0, "~/.bashrc was not read");

  // Control: the same sshd with bash's usual start level does read it.
  await runAs({ env: { SHLVL: "0" } }, "true");
  assert.equal(await reads(home), 1, "without SHLVL=1, bash reads ~/.bashrc for sshd");
});

Deno.test("test sshd: a SetEnv line in extraConfig is refused (sshd would ignore all but the first)", async () => {
  await assert.rejects(
    startSshd({ extraConfig: ["SetEnv FOO=bar"] }),
    /pass session variables as `env`/,
  );
});
