/**
 * Shared set-up for the SSH tests: a throwaway sshd with a client key, an
 * open communicator, and a ProvisionContext whose UI and event log are
 * recorded for assertions.
 */
import { generateKey, type SshdHandle, type SshdOptions, startSshd } from "../support/sshd.ts";
import { openSsh } from "../../communicators/ssh.ts";
import type { Communicator } from "../../communicators/communicator.ts";
import type { ProvisionContext } from "../../provisioners/provisioner.ts";

/** A test sshd with a key that may log in, and a scratch directory. */
export interface Lab {
  sshd: SshdHandle;
  dir: string;
  key: { privateKeyPath: string; publicKey: string };
  /** ssh_* options that connect to this sshd with the key. */
  config(extra?: Record<string, unknown>): Record<string, unknown>;
  connect(extra?: Record<string, unknown>, signal?: AbortSignal): Promise<Communicator>;
  dispose(): Promise<void>;
}

/** Starts an sshd accepting a fresh client key. */
export async function startLab(options: SshdOptions = {}): Promise<Lab> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-ssh-test-" });
  const key = await generateKey(dir, "client");
  const sshd = await startSshd({
    ...options,
    authorizedKeys: [key.publicKey, ...(options.authorizedKeys ?? [])],
  });
  const config = (extra: Record<string, unknown> = {}) => ({
    communicator: "ssh",
    ssh_host: "127.0.0.1",
    ssh_port: sshd.port,
    ssh_username: sshd.user,
    ssh_private_key_file: key.privateKeyPath,
    ssh_timeout: 10_000,
    ...extra,
  });
  return {
    sshd,
    dir,
    key,
    config,
    connect: (extra = {}, signal = new AbortController().signal) => {
      const c = config(extra);
      return openSsh({
        config: c,
        target: { host: String(c.ssh_host), port: Number(c.ssh_port) },
        signal,
      });
    },
    dispose: async () => {
      await sshd.stop();
      await Deno.remove(sshd.dir, { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Runs `fn` with a fresh lab and an open communicator to it; both are torn down afterwards. */
export async function withConnectedLab(
  fn: (lab: Lab, comm: Communicator) => Promise<void>,
): Promise<void> {
  const lab = await startLab();
  try {
    const comm = await lab.connect();
    try {
      await fn(lab, comm);
    } finally {
      await comm.close();
    }
  } finally {
    await lab.dispose();
  }
}

/** What a provisioner showed and logged. */
export interface Recorded {
  says: string[];
  messages: string[];
  errors: string[];
  events: { type: string; data: Record<string, unknown> }[];
}

/** A ProvisionContext over `comm` that records UI lines and events. */
export function provisionContext(
  comm: Communicator,
  signal: AbortSignal = new AbortController().signal,
): { ctx: ProvisionContext; rec: Recorded } {
  const rec: Recorded = { says: [], messages: [], errors: [], events: [] };
  const ctx: ProvisionContext = {
    runId: "test-run",
    buildName: "null",
    builderType: "null",
    comm,
    ui: {
      say: (m) => rec.says.push(m),
      message: (m) => rec.messages.push(m),
      error: (m) => rec.errors.push(m),
    },
    signal,
    secrets: {
      put: () => Promise.resolve(""),
      get: () => Promise.resolve(undefined),
      mask: () => {},
      path: (n) => n,
    },
    buildData: {},
    render: (text, data = {}) =>
      text.replace(
        /\{\{\s*\.(\w+)\s*\}\}/g,
        (_, k) => String((data as Record<string, unknown>)[k] ?? ""),
      ),
    emit: (type, data = {}) => {
      rec.events.push({ type, data });
      return Promise.resolve();
    },
  };
  return { ctx, rec };
}

/** Relative paths of every file and directory under `root` ("d/" for directories), sorted. */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) {
        out.push(`${r}/`);
        await walk(`${dir}/${e.name}`, r);
      } else out.push(r);
    }
  };
  await walk(root, "");
  return out.sort();
}

/** SHA-256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  const data = await Deno.readFile(path);
  const digest = await crypto.subtle.digest("SHA-256", data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether Packer is installed, for the tests that compare kiln with it. */
export async function havePacker(): Promise<boolean> {
  try {
    return (await new Deno.Command("packer", { args: ["version"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

/** Runs `packer build -color=false` on a template in `cwd`, without checkpoint calls or logs. */
export async function packerBuild(
  template: string,
  cwd: string,
): Promise<{ success: boolean; stdout: string }> {
  const out = await new Deno.Command("packer", {
    args: ["build", "-color=false", template],
    cwd,
    env: { CHECKPOINT_DISABLE: "1", PACKER_LOG: "" },
  }).output();
  return { success: out.success, stdout: new TextDecoder().decode(out.stdout) };
}
