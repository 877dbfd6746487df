/**
 * Secrets: every build shape runs with the campaign's sentinel secrets
 * planted (sensitive variable, also passed with -var; ssh_password; a private
 * key file; the AWS secret key; winrm_password) along every path a run can take — success, a
 * failing provisioner, Ctrl-C mid-step, kill -9 then `kiln cleanup` — and
 * every byte kiln wrote is scanned: its output, the run directory (the
 * secret store included once the run has ended), TMPDIR, the build's
 * outputs and any file it created or changed in the workspace.
 */
import { join } from "node:path";
import type { CampaignSize, Scenario } from "../types.ts";
import { scanForSentinels, SENTINELS } from "../secret_scan.ts";
import { openLab } from "../support/labs.ts";
import { type KilnExit, type KilnSpawnOptions, spawnKiln } from "../support/kiln_process.ts";
import { Checks, runScenario, type TrialOutcome } from "../support/trials.ts";
import { ensurePasswordUser, startSshd } from "../../tests/support/sshd.ts";
import { startWinrmServer } from "../../tests/support/winrm/server.ts";

/** What a shape's workspace offers a trial. */
interface SecretLab {
  dir: string;
  home: string;
  tmp: string;
  /** `kiln build` arguments. */
  buildArgs: string[];
  spawn(): KilnSpawnOptions;
  /** Outside the workspace, where the build writes. */
  outputs: string[];
  /** Private keys and the like, scanned for besides the sentinels. */
  extraSecrets: Record<string, string>;
  close(): Promise<void>;
}

/** How a trial's run goes. */
type Path = "success" | "failure" | "ctrl-c" | "kill -9, cleanup";

const PATHS: Path[] = ["success", "failure", "ctrl-c", "kill -9, cleanup"];
const STARTED = "long-step-started";

/** The provisioner steps for a path: print the secret, then succeed, fail or block. */
function steps(path: Path): string[] {
  const tail = path === "failure"
    ? ["exit 3"]
    : path === "success"
    ? []
    : [`echo ${STARTED}`, "sleep 20"];
  return ['echo "using $SECRET"', ...tail];
}

function provisioner(type: "shell" | "shell-local", path: Path, secret: string) {
  return { type, environment_vars: [`SECRET=${secret}`], inline: steps(path) };
}

const SENSITIVE = "{{user `secret`}}";

async function scratch(name: string) {
  const dir = await Deno.makeTempDir({ prefix: `kiln-rel-secrets-${name}-` });
  await Deno.mkdir(join(dir, "tmp"));
  return { dir, home: join(dir, ".kiln"), tmp: join(dir, "tmp") };
}

function spawnFor(s: { dir: string; home: string; tmp: string }, env: Record<string, string> = {}) {
  return () => ({ cwd: s.dir, home: s.home, tmp: s.tmp, env });
}

/** null builder, no communicator, shell-local printing the sensitive variable. */
async function nullLocal(path: Path): Promise<SecretLab> {
  const s = await scratch("null-local");
  const template = {
    variables: { secret: SENTINELS.sensitiveVariable },
    "sensitive-variables": ["secret"],
    builders: [{ type: "null", communicator: "none" }],
    provisioners: [provisioner("shell-local", path, SENSITIVE)],
  };
  const file = join(s.dir, "template.json");
  await Deno.writeTextFile(file, JSON.stringify(template));
  return {
    ...s,
    buildArgs: ["-var", `secret=${SENTINELS.sensitiveVariable}`, file],
    spawn: spawnFor(s),
    outputs: [],
    extraSecrets: {},
    close: () => Deno.remove(s.dir, { recursive: true }),
  };
}

const PASSWORD_USER = "kilnrelpw";

/** null builder over SSH with ssh_password (a real user with the sentinel as password). */
async function nullSshPassword(path: Path): Promise<SecretLab> {
  const s = await scratch("ssh-password");
  await ensurePasswordUser(PASSWORD_USER, SENTINELS.sshPassword);
  const sshd = await startSshd({ passwordAuth: true, usePam: true });
  const template = {
    variables: { secret: SENTINELS.sensitiveVariable },
    "sensitive-variables": ["secret"],
    builders: [{
      type: "null",
      ssh_host: sshd.host,
      ssh_port: sshd.port,
      ssh_username: PASSWORD_USER,
      ssh_password: SENTINELS.sshPassword,
      ssh_timeout: "30s",
    }],
    provisioners: [provisioner("shell", path, SENSITIVE)],
  };
  const file = join(s.dir, "template.json");
  await Deno.writeTextFile(file, JSON.stringify(template));
  return {
    ...s,
    buildArgs: [file],
    spawn: spawnFor(s),
    outputs: [`/home/${PASSWORD_USER}`],
    extraSecrets: {},
    close: async () => {
      await sshd.stop();
      await Deno.remove(sshd.dir, { recursive: true }).catch(() => {});
      await Deno.remove(s.dir, { recursive: true });
    },
  };
}

/** null builder over WinRM (NTLM) with winrm_password; uploads over it, then shell-local. */
async function nullWinrm(path: Path): Promise<SecretLab> {
  const s = await scratch("winrm");
  const server = await startWinrmServer({ password: SENTINELS.winrmPassword });
  const template = {
    variables: { secret: SENTINELS.sensitiveVariable },
    "sensitive-variables": ["secret"],
    builders: [{
      type: "null",
      communicator: "winrm",
      winrm_host: server.host,
      winrm_port: server.port,
      winrm_username: server.username,
      winrm_password: SENTINELS.winrmPassword,
      winrm_use_ntlm: true,
      winrm_timeout: "1m",
    }],
    provisioners: [
      { type: "file", content: "uploaded over WinRM", destination: "C:\\kiln\\note.txt" },
      provisioner("shell-local", path, SENSITIVE),
    ],
  };
  const file = join(s.dir, "template.json");
  await Deno.writeTextFile(file, JSON.stringify(template));
  return {
    ...s,
    buildArgs: [file],
    spawn: spawnFor(s),
    outputs: [server.root],
    extraSecrets: {},
    close: async () => {
      await server.stop();
      await Deno.remove(s.dir, { recursive: true });
    },
  };
}

/** One of the campaign's example labs, with this path's provisioner. */
async function exampleLab(kind: "null-ssh" | "file" | "aws", path: Path): Promise<SecretLab> {
  const type = kind === "file" ? "shell-local" : "shell";
  const secret = kind === "aws" ? "{{user `secret`}}" : SENSITIVE;
  const lab = await openLab(kind, { provisioners: [provisioner(type, path, secret)] });
  const extraSecrets: Record<string, string> = {};
  if (kind === "null-ssh") {
    extraSecrets.privateKey = await Deno.readTextFile(join(lab.dir, "client"));
  }
  return {
    dir: lab.dir,
    home: lab.home,
    tmp: lab.tmp,
    buildArgs: kind === "aws"
      ? lab.buildArgs
      : ["-var", `secret=${SENTINELS.sensitiveVariable}`, ...lab.buildArgs],
    spawn: () => lab.spawn(),
    outputs: lab.outputs,
    extraSecrets,
    close: () => lab.close(),
  };
}

const SHAPES: Record<string, (path: Path) => Promise<SecretLab>> = {
  "null with shell-local": nullLocal,
  "null over SSH, ssh_password": nullSshPassword,
  "null over SSH, private key": (p) => exampleLab("null-ssh", p),
  "file builder": (p) => exampleLab("file", p),
  "amazon-instance on the EC2 emulator": (p) => exampleLab("aws", p),
  "null over WinRM, winrm_password": nullWinrm,
};

/** Size and modification time of every file under `dir` (kiln's own directories excluded). */
async function snapshot(dir: string, skip: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const path = join(d, e.name);
      if (skip.includes(path)) continue;
      if (e.isDirectory) await walk(path);
      else if (e.isFile) {
        const info = await Deno.stat(path);
        out.set(path, `${info.size}:${info.mtime?.getTime()}`);
      }
    }
  };
  await walk(dir);
  return out;
}

/** Runs one shape along one path, then scans everything kiln wrote. */
async function secretTrial(shape: string, path: Path): Promise<TrialOutcome> {
  const c = new Checks();
  const lab = await SHAPES[shape](path);
  try {
    const skip = [lab.home, lab.tmp];
    const before = await snapshot(lab.dir, skip);
    const outputs: KilnExit[] = [];
    const build = spawnKiln(["build", ...lab.buildArgs], lab.spawn());
    if (path === "ctrl-c" || path === "kill -9, cleanup") {
      const seen = await build.waitForLine(new RegExp(STARTED), 180_000);
      c.expect(seen !== undefined, `the long step never started`);
      build.kill(path === "ctrl-c" ? "SIGINT" : "SIGKILL");
    }
    const built = await build.done;
    outputs.push(built);
    if (built.runId) Object.assign(lab.extraSecrets, await storedKeys(lab.home, built.runId));
    const expected = { success: 0, failure: 1, "ctrl-c": 130, "kill -9, cleanup": 137 }[path];
    const code = built.signal === "SIGKILL" ? 137 : built.code;
    c.expect(code === expected, `build exit ${code}, expected ${expected}: ${tail(built)}`);
    if (built.runId && path !== "success") {
      // Only an ended run may drop its secret store; cleanup ends every path.
      const cleanup = await spawnKiln(["cleanup", built.runId], lab.spawn()).done;
      outputs.push(cleanup);
      c.expect(cleanup.code === 0, `cleanup exit ${cleanup.code}: ${tail(cleanup)}`);
    }
    c.expect(built.runId !== undefined, "no run id announced");
    const after = await snapshot(lab.dir, skip);
    const written = [...after.keys()].filter((p) => before.get(p) !== after.get(p));
    const texts: Record<string, string> = {};
    outputs.forEach((o, n) => {
      texts[`command ${n + 1} stdout`] = o.stdout;
      texts[`command ${n + 1} stderr`] = o.stderr;
    });
    const hits = await scanForSentinels(
      [lab.home, lab.tmp, ...lab.outputs, ...written],
      texts,
      lab.extraSecrets,
      { includeSecretStore: true },
    );
    c.expect(hits.length === 0, `secrets written: ${hits.slice(0, 4).join("; ")}`);
    // The secret must have been printed (and masked), or the trial proves nothing.
    c.expect(
      outputs[0].stdout.includes("using <sensitive>"),
      "the provisioner's masked output is missing: the secret was never exercised",
    );
  } finally {
    await lab.close();
  }
  return c.outcome();
}

/**
 * Private keys kiln generated and kept for a resume (the amazon-instance
 * temporary key pair): once the run has ended they must be gone and
 * nowhere else.
 */
async function storedKeys(home: string, runId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const store = join(home, "runs", runId, "secrets");
  try {
    for await (const e of Deno.readDir(store)) {
      const text = await Deno.readTextFile(join(store, e.name));
      if (text.includes("-----BEGIN")) out[`stored ${e.name}`] = text;
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}

function tail(o: KilnExit): string {
  return (o.stderr.trim() || o.stdout.trim()).split("\n").slice(-2).join(" / ").slice(0, 300);
}

/** Shapes for a campaign size: fast keeps one SSH and one local shape, on every path. */
function shapesFor(size: CampaignSize): string[] {
  const all = Object.keys(SHAPES);
  return size === "full" ? all : ["null with shell-local", "null over SSH, ssh_password"];
}

/** Sentinel secrets along every path of every build shape: 0 occurrences in anything kiln wrote. */
export const secretsEverywhere: Scenario = {
  group: "secrets",
  run: async (size) => {
    const rows = [];
    for (const shape of shapesFor(size)) {
      rows.push(
        await runScenario(
          `sentinels in every byte written: ${shape} (${PATHS.join(", ")})`,
          PATHS,
          (p) => p,
          (p) => secretTrial(shape, p),
          { concurrency: 1, deadlineMs: 300_000 },
        ),
      );
    }
    return rows;
  },
};
