/**
 * The ansible and ansible-local provisioners against real peers: the real
 * ansible-playbook from Debian, a throwaway OpenSSH sshd on loopback whose
 * "machine" is this host as a dedicated user (a plain /bin/sh login, so no
 * shell start-up file slows every Ansible command), and the kiln CLI run as
 * a user runs it. One sshd and one user serve every test in the file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { generateKey, type SshdHandle, startSshd } from "../support/sshd.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { watchKiln } from "../support/kiln_process.ts";

const GUEST_USER = "kilnansible";

/** The dedicated guest user (idempotent), and its home, where the playbooks write. */
async function ensureGuestUser(): Promise<string> {
  const exists = await new Deno.Command("id", {
    args: [GUEST_USER],
    stdout: "null",
    stderr: "null",
  })
    .output();
  if (!exists.success) {
    const add = await new Deno.Command("useradd", {
      args: ["-m", "-s", "/bin/sh", GUEST_USER],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!add.success && add.code !== 9) {
      throw new Error(`useradd: ${new TextDecoder().decode(add.stderr)}`);
    }
  }
  // useradd leaves the account locked ("!"), and sshd refuses even key logins to a locked
  // account: "*" is no password, but not locked.
  await new Deno.Command("usermod", { args: ["-p", "*", GUEST_USER] }).output();
  return `/home/${GUEST_USER}`;
}

interface Fixture {
  dir: string;
  home: string;
  sshd: SshdHandle;
  keyPath: string;
}

let fixture: Promise<Fixture> | undefined;

/** One sshd, key and guest user for the whole file; stopped by the last test. */
function shared(): Promise<Fixture> {
  return fixture ??= (async () => {
    const home = await ensureGuestUser();
    const dir = await Deno.makeTempDir({ prefix: "kiln-ansible-" });
    const key = await generateKey(dir, "id");
    const sshd = await startSshd({ authorizedKeys: [key.publicKey] });
    // sshd reads authorized_keys as the logging-in user: let the guest user reach it
    // (the directory only traversable, so its host key stays root's).
    await Deno.chmod(sshd.dir, 0o711);
    await Deno.chmod(join(sshd.dir, "authorized_keys"), 0o644);
    return { dir, home, sshd, keyPath: key.privateKeyPath };
  })();
}

/**
 * A playbook writing `greeting` (an extra var) and the KILN_ANSIBLE_MARK
 * variable of ansible-playbook's environment to `dest`, then, with `hold`,
 * sleeping until `<dest>.go` exists (at most a minute).
 */
function playbook(hold = false, hosts = "all"): string {
  return [
    `- hosts: ${hosts}`,
    "  gather_facts: false",
    "  tasks:",
    "    - name: write the greeting",
    "      copy:",
    "        content: \"{{ greeting }}{{ lookup('env', 'KILN_ANSIBLE_MARK') }}\\n\"",
    '        dest: "{{ dest }}"',
    ...(hold
      ? [
        "    - name: hold",
        '      shell: "for i in $(seq 600); do test -e {{ dest }}.go && exit 0; sleep 0.1; done"',
      ]
      : []),
    "",
  ].join("\n");
}

async function writeTemplate(
  f: Fixture,
  name: string,
  provisioner: Record<string, unknown>,
): Promise<string> {
  const template = {
    builders: [{
      type: "null",
      ssh_host: f.sshd.host,
      ssh_port: f.sshd.port,
      ssh_username: GUEST_USER,
      ssh_private_key_file: f.keyPath,
    }],
    provisioners: [provisioner],
  };
  const file = join(f.dir, `${name}.json`);
  await Deno.writeTextFile(file, JSON.stringify(template, null, 2));
  return file;
}

async function guestFile(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

/** Every file under `dir` (recursively) whose name starts with one of `prefixes`. */
async function filesNamed(dir: string, prefixes: string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(at));
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(at, e.name);
      if (prefixes.some((p) => e.name.startsWith(p))) found.push(path);
      if (e.isDirectory) await walk(path);
    }
  };
  await walk(dir);
  return found;
}

async function listening(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

const TEMP_PREFIXES = ["packer-provisioner-ansible", "ansible-key"];

Deno.test("validate names the file, the option and what was expected, in Packer 1.6.6's words", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kiln-ansible-validate-" });
  try {
    await Deno.writeTextFile(join(dir, "site.yml"), playbook());
    const template = {
      builders: [{
        type: "null",
        ssh_host: "127.0.0.1",
        ssh_username: "u",
        ssh_password: "validate-only-pw",
      }],
      provisioners: [
        { type: "ansible" },
        {
          type: "ansible",
          playbook_file: "missing.yml",
          local_port: 70000,
          inventory_directory: "site.yml",
          command: "no-such-ansible-playbook",
        },
        { type: "ansible-local" },
        { type: "ansible-local", playbook_file: "site.yml", playbook_files: ["site.yml"] },
        { type: "ansible-local", playbook_file: "site.yml", role_paths: ["roles"], bogus: 1 },
      ],
    };
    const file = join(dir, "t.json");
    await Deno.writeTextFile(file, JSON.stringify(template, null, 2));
    const out = await runKiln(["validate", file], { cwd: dir });
    const text = out.stdout + out.stderr;
    assert.equal(out.code, 1, text);
    for (
      const line of [
        /t\.json:\d+:\d+: provisioners\[0\]\.playbook_file: playbook_file must be specified\./,
        /provisioners\[1\]\.playbook_file: missing\.yml is invalid: stat missing\.yml: no such file or directory/,
        /provisioners\[1\]\.local_port: 70000 must be a valid port/,
        /provisioners\[1\]\.inventory_directory: site\.yml must point to a directory/,
        /provisioners\[1\]\.command: Error running "no-such-ansible-playbook --version": exec: "no-such-ansible-playbook": executable file not found in \$PATH/,
        /provisioners\[2\]: Either playbook_file or playbook_files must be specified/,
        /provisioners\[3\]: Either playbook_file or playbook_files can be specified, not both/,
        /provisioners\[4\]\.role_paths: roles is invalid: stat roles: no such file or directory/,
        /provisioners\[4\]\.bogus: unknown configuration key: "bogus"/,
      ]
    ) assert.match(text, line);
    assert.doesNotMatch(text, /\bat .+\.ts:\d+/, "no stack trace");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const useProxy of [true, false]) {
  Deno.test(`ansible (use_proxy ${useProxy}) runs the playbook on the machine`, async () => {
    const f = await shared();
    const name = `proxy-${useProxy}`;
    const dest = join(f.home, `${name}.txt`);
    await Deno.remove(dest).catch(() => {});
    const book = join(f.dir, `${name}.yml`);
    // Only the host of group "web": the generated inventory must put it there.
    await Deno.writeTextFile(book, playbook(false, "web"));
    const file = await writeTemplate(f, name, {
      type: "ansible",
      playbook_file: book,
      use_proxy: useProxy,
      groups: ["web"],
      empty_groups: ["db"],
      // The machine's user, as Packer needs it with the proxy too (the default is kiln's user).
      user: GUEST_USER,
      // Debian keeps sftp-server under /usr/lib/openssh (Packer's default path is not there).
      sftp_command: "/usr/lib/openssh/sftp-server -e",
      extra_arguments: [
        "--extra-vars",
        `greeting=hello-${name} dest=${dest}`,
        "-e",
        "api_secret=hunter2-never-shown",
      ],
      ansible_env_vars: [
        "KILN_ANSIBLE_MARK=-from-env",
        // Straight to the machine, Ansible's ControlPersist master (60 s by default) would
        // outlive the test's sshd session: let it go as soon as the playbook is done.
        ...(useProxy ? [] : ["ANSIBLE_SSH_ARGS=-C -o ControlMaster=auto -o ControlPersist=1s"]),
      ],
    });
    const kilnHome = join(f.dir, `home-${name}`);
    const out = await runKiln(["build", file], { cwd: f.dir, home: kilnHome });
    const text = out.stdout + out.stderr;
    assert.equal(out.code, 0, text);
    // The effect on the machine: written there, by the machine's user, with the extra var
    // and the variable ansible_env_vars gave ansible-playbook.
    assert.equal(await guestFile(dest), `hello-${name}-from-env\n`);
    const owner = (await Deno.stat(dest)).uid;
    const uid = new TextDecoder().decode(
      (await new Deno.Command("id", { args: ["-u", GUEST_USER], stdout: "piped" }).output())
        .stdout,
    ).trim();
    assert.equal(String(owner), uid);
    // What the user sees: Packer's lines and Ansible's own recap.
    assert.match(text, /Provisioning with Ansible\.\.\./);
    assert.match(
      text,
      useProxy ? /Setting up proxy adapter for Ansible/ : /Not using Proxy adapter for Ansible run/,
    );
    const executing = text.split("\n").find((l) => l.includes("Executing Ansible: "));
    assert.ok(executing, text);
    // Ansible is handed a key *file*; the key itself never shows, nor reaches the log.
    assert.match(executing!, /-e ansible_ssh_private_key_file=\/\S+ansible-key\d+ /);
    assert.match(executing!, new RegExp(`-e packer_builder_type=null `));
    // A secret-looking extra argument is shown masked, as Packer does.
    assert.match(executing!, / -e api_secret=\*\*\*\*\* /);
    assert.doesNotMatch(text, /hunter2-never-shown/);
    assert.match(text, /PLAY RECAP/);
    assert.match(text, /ok=1 +changed=1 +unreachable=0 +failed=0/);
    assert.doesNotMatch(text, /PRIVATE KEY/);
    const runs = join(kilnHome, "runs");
    for await (const run of Deno.readDir(runs)) {
      const log = await Deno.readTextFile(join(runs, run.name, "events.jsonl"));
      assert.doesNotMatch(log, /PRIVATE KEY/);
      assert.match(log, /AnsibleCommandFinished/);
    }
    // The inventory and key files are gone once the provisioner ended.
    assert.deepEqual(await filesNamed(kilnHome, TEMP_PREFIXES), []);
  });
}

Deno.test("ansible-local uploads the playbook and runs it on the machine", async () => {
  const f = await shared();
  const dest = join(f.home, "local.txt");
  await Deno.remove(dest).catch(() => {});
  const book = join(f.dir, "local.yml");
  await Deno.writeTextFile(book, playbook());
  const staging = join(f.home, "staging");
  const file = await writeTemplate(f, "local", {
    type: "ansible-local",
    playbook_file: book,
    staging_directory: staging,
    clean_staging_directory: true,
    extra_arguments: ["--extra-vars", `"greeting=hello-local dest=${dest}"`],
  });
  const kilnHome = join(f.dir, "home-local");
  const out = await runKiln(["build", file], { cwd: f.dir, home: kilnHome });
  const text = out.stdout + out.stderr;
  assert.equal(out.code, 0, text);
  assert.equal(await guestFile(dest), "hello-local\n");
  assert.match(text, /Uploading main Playbook file\.\.\./);
  assert.match(
    text,
    new RegExp(
      `Executing Ansible: cd ${staging} && ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ` +
        `ansible-playbook ${staging}/local\\.yml`,
    ),
  );
  assert.match(text, /-c local -i \S+packer-provisioner-ansible-local\d+/);
  assert.match(text, /PLAY RECAP/);
  // clean_staging_directory: nothing left of the upload.
  assert.equal(await guestFile(join(staging, "local.yml")), undefined);
});

Deno.test("ansible: kill -9 mid-playbook, then --resume runs it again and leaves nothing", async () => {
  const f = await shared();
  const dest = join(f.home, "resumed.txt");
  await Deno.remove(dest).catch(() => {});
  await Deno.remove(`${dest}.go`).catch(() => {});
  const book = join(f.dir, "resumed.yml");
  await Deno.writeTextFile(book, playbook(true));
  const invDir = join(f.dir, "inventories-resumed");
  await Deno.mkdir(invDir);
  const file = await writeTemplate(f, "resumed", {
    type: "ansible",
    playbook_file: book,
    inventory_directory: invDir,
    user: GUEST_USER,
    sftp_command: "/usr/lib/openssh/sftp-server -e",
    extra_arguments: ["--extra-vars", `greeting=again dest=${dest}`],
  });
  const kilnHome = join(f.dir, "home-resumed");
  const kiln = watchKiln(["build", file], { cwd: f.dir, home: kilnHome });
  try {
    await kiln.waitFor(/TASK \[hold\]/);
    const first = await Deno.readTextFile(await inventoryOf(invDir));
    kiln.process.kill("SIGKILL");
    await kiln.done();
    await Deno.writeTextFile(`${dest}.go`, "");
    const runId = (await Array.fromAsync(Deno.readDir(join(kilnHome, "runs"))))[0].name;
    const out = await runKiln(["build", "--resume", runId], { cwd: f.dir, home: kilnHome });
    const text = out.stdout + out.stderr;
    assert.equal(out.code, 0, text);
    // Run again from the start: the greeting the killed attempt wrote is already there.
    assert.match(text, /ok=2 +changed=1 +unreachable=0 +failed=0/);
    assert.equal(await guestFile(dest), "again\n");
    assert.match(text, /Listener 127\.0\.0\.1:\d+ \(ansible proxy\) ended with its process/);
    // The killed attempt's inventory (and key) went with the build's temporary resources.
    assert.deepEqual(await filesNamed(invDir, TEMP_PREFIXES), [], first);
    assert.deepEqual(await filesNamed(kilnHome, TEMP_PREFIXES), []);
    const firstPort = Number(/ansible_port=(\d+)/.exec(first)?.[1]);
    assert.equal(await listening(firstPort), false);
  } finally {
    try {
      kiln.process.kill("SIGKILL");
    } catch { /* already gone */ }
    await kiln.done().catch(() => {});
  }
});

Deno.test("ansible: kill -9 mid-playbook, then cleanup leaves no proxy and no key or inventory", async () => {
  const f = await shared();
  const dest = join(f.home, "killed.txt");
  await Deno.remove(dest).catch(() => {});
  const book = join(f.dir, "killed.yml");
  await Deno.writeTextFile(book, playbook(true));
  const port = 40000 + Math.floor(Math.random() * 20000);
  // The inventory outside the run's directory: cleanup must find it through the ledger alone.
  const invDir = join(f.dir, "inventories");
  await Deno.mkdir(invDir);
  const file = await writeTemplate(f, "killed", {
    type: "ansible",
    playbook_file: book,
    inventory_directory: invDir,
    user: GUEST_USER,
    local_port: port,
    sftp_command: "/usr/lib/openssh/sftp-server -e",
    extra_arguments: ["--extra-vars", `greeting=held dest=${dest}`],
  });
  const kilnHome = join(f.dir, "home-killed");
  const kiln = watchKiln(["build", file], { cwd: f.dir, home: kilnHome });
  try {
    await kiln.waitFor(/TASK \[hold\]/);
    const inventory = await Deno.readTextFile(await inventoryOf(invDir));
    // local_port is where the proxy starts looking: it serves on the first free port from there.
    const proxyPort = Number(/ansible_host=127\.0\.0\.1 .*ansible_port=(\d+)/.exec(inventory)?.[1]);
    assert.ok(proxyPort >= port && proxyPort < port + 10, inventory);
    assert.ok(await listening(proxyPort), "the proxy listens while the playbook runs");
    assert.equal(await guestFile(dest), "held\n");
    kiln.process.kill("SIGKILL");
    await kiln.done();
    const leftBehind = [
      ...await filesNamed(kilnHome, TEMP_PREFIXES),
      ...await filesNamed(invDir, TEMP_PREFIXES),
    ];
    assert.equal(leftBehind.length, 2, `the kill left the inventory and key: ${leftBehind}`);
    for (const path of leftBehind) {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600, `${path} is readable by others`);
    }
    const runId = (await Array.fromAsync(Deno.readDir(join(kilnHome, "runs"))))[0].name;
    const clean = await runKiln(["cleanup", runId], { cwd: f.dir, home: kilnHome });
    const cleanText = clean.stdout + clean.stderr;
    assert.equal(clean.code, 0, cleanText);
    // The ledger knew the proxy, the key and the inventory: cleanup accounts for each.
    assert.match(
      cleanText,
      new RegExp(`Listener 127\\.0\\.0\\.1:${proxyPort} \\(ansible proxy\\) ended`),
    );
    assert.match(cleanText, /Deleted \S+ansible-key\d+/);
    assert.match(cleanText, /Deleted \S+packer-provisioner-ansible\d+/);
    assert.equal(await listening(proxyPort), false, "nothing listens on the proxy's port");
    assert.deepEqual(await filesNamed(kilnHome, TEMP_PREFIXES), []);
    assert.deepEqual(await filesNamed(invDir, TEMP_PREFIXES), []);
    // ansible-playbook (and its `sleep` on the machine's side) was stopped by cleanup.
    const ps = new TextDecoder().decode(
      (await new Deno.Command("pgrep", { args: ["-f", book], stdout: "piped" }).output()).stdout,
    ).trim();
    assert.equal(ps, "", "ansible-playbook still runs");
  } finally {
    try {
      kiln.process.kill("SIGKILL");
    } catch { /* already gone */ }
    await kiln.done().catch(() => {});
    const { sshd, dir } = await shared();
    await sshd.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

/** The generated inventory file in `dir`. */
async function inventoryOf(dir: string): Promise<string> {
  const [path] = await filesNamed(dir, ["packer-provisioner-ansible"]);
  assert.ok(path, "no inventory file while the playbook runs");
  return path;
}
