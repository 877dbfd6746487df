/**
 * One `kiln build` whose script gets a sensitive variable through
 * `environment_vars`, watched from outside as an attacker on the same host
 * would watch it: every process's command line is swept for the value from
 * start to exit, the env var file is looked at while the script runs, and
 * afterwards what is left of it, what the script saw and what kiln wrote
 * are collected. The tests and the reliability campaign judge the result.
 *
 * Three shapes: `shell` over SSH to a real sshd as a user whose login shell
 * is /bin/sh (dash keeps a `-c` command line for the whole script, where
 * bash would exec the script and hide Packer's default leak), and
 * `shell-local` as a provisioner and as a post-processor.
 */
import { join } from "node:path";
import { type ArgvHit, watchArgv } from "./argv_watch.ts";
import { watchKiln, watchProcess } from "./kiln_process.ts";
import { ensurePasswordUser, type SshdHandle, startSshd } from "./sshd.ts";

/** Where the script runs. */
export type EnvFileShape =
  | "shell over SSH"
  | "shell-local provisioner"
  | "shell-local post-processor";

/** How the script ends. */
export type EnvFileEnding = "success" | "failure" | "ctrl-c";

/** Every shape, in table order. */
export const ENV_FILE_SHAPES: EnvFileShape[] = [
  "shell over SSH",
  "shell-local provisioner",
  "shell-local post-processor",
];

/** The SSH login of the `shell` shape: a real user whose login shell is /bin/sh. */
export const ENV_FILE_SSH_USER = "kilnenvfile";
const SSH_PASSWORD = "kiln-envfile-login-pw";

/** The line the script prints once it has read its variables. */
export const SCRIPT_STARTED = "envfile-script-started";

/** A sensitive value made to break naive quoting, and the markers that find it. */
export interface TrickySecret {
  value: string;
  /** Distinctive pieces of `value` (one per line) to look for in argv and logs. */
  needles: string[];
}

/**
 * A fresh secret with spaces, both quotes, `$`, a backslash, a backtick, a
 * command substitution and a newline: any quoting slip changes what the
 * script sees or runs something.
 */
export function trickySecret(): TrickySecret {
  const token = crypto.randomUUID().slice(0, 12);
  const first = `envfile-secret-${token}`;
  const second = `envfile-line2-${token}`;
  return {
    value: `${first} it's "double" $HOME \\n \`id\`\n${second} $(false) 'end'`,
    needles: [first, second],
  };
}

/** What one build showed. */
export interface EnvFileObservation {
  shape: EnvFileShape;
  ending: EnvFileEnding;
  useEnvVarFile: boolean;
  secret: TrickySecret;
  /** A non-sensitive variable's value, to show the file's contents are not logged at all. */
  plain: string;
  code: number;
  output: string;
  /** Processes whose command line held a piece of the secret. */
  argvHits: ArgvHit[];
  /** Sweeps of /proc made during the build. */
  sweeps: number;
  /** What the script saw in $SECRET and $PLAIN (undefined: it never wrote them). */
  seenSecret?: string;
  seenPlain?: string;
  /** The env var file as found while the script ran (use_env_var_file only). */
  envFileWhileRunning?: { path: string; mode: number; uid: number; content: string };
  /** Env var files left afterwards (names), where the shape writes them. */
  envFilesLeft: string[];
  /** The run's events.jsonl. */
  log: string;
}

/** A workspace (and sshd) reused across builds. */
export interface EnvFileLab {
  run(
    shape: EnvFileShape,
    ending: EnvFileEnding,
    options?: {
      useEnvVarFile?: boolean;
      /** Run the same template through Packer instead (it has no log; shell-local lacks the option). */
      runner?: "kiln" | "packer";
    },
  ): Promise<EnvFileObservation>;
  close(): Promise<void>;
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const out = await new Deno.Command("id", { args: [name] }).output();
  const text = new TextDecoder().decode(out.stdout);
  return { uid: Number(text.match(/uid=(\d+)/)?.[1]), gid: Number(text.match(/gid=(\d+)/)?.[1]) };
}

function scriptLines(out: string, ending: EnvFileEnding): string[] {
  return [
    `printf '%s' "$SECRET" > ${out}/seen-secret`,
    `printf '%s' "$PLAIN" > ${out}/seen-plain`,
    `echo ${SCRIPT_STARTED}`,
    ending === "ctrl-c" ? "sleep 30" : "sleep 1.5",
    ...(ending === "failure" ? ["exit 3"] : []),
  ];
}

const ENV = ["SECRET={{user `secret`}}", "PLAIN={{user `plain`}}"];

async function readOr(path: string): Promise<string | undefined> {
  return await Deno.readTextFile(path).catch(() => undefined);
}

async function varFilesIn(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir)))
      .map((e) => e.name)
      .filter((n) => n.startsWith("varfile_"));
  } catch {
    return [];
  }
}

/** The run's own temp dirs (`<home>/runs/<id>/tmp`), where shell-local writes its env var file. */
async function runTempDirs(home: string): Promise<string[]> {
  const runs = join(home, "runs");
  const ids = await Array.fromAsync(Deno.readDir(runs)).catch(() => []);
  return ids.map((e) => join(runs, e.name, "tmp"));
}

/** Opens a lab; `close()` stops its sshd and removes every file. */
export async function openEnvFileLab(): Promise<EnvFileLab> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-envfile-" });
  let sshd: SshdHandle | undefined;
  let remote: string | undefined;
  // Builds may run side by side: the first SSH build starts the one sshd.
  let sshReady: Promise<{ sshd: SshdHandle; remote: string }> | undefined;
  let count = 0;

  const sshSide = () =>
    sshReady ??= (async () => {
      await ensurePasswordUser(ENV_FILE_SSH_USER, SSH_PASSWORD);
      sshd = await startSshd({ passwordAuth: true, usePam: true });
      // The remote side writes as the SSH user, so its folder is outside the 0700 test dir.
      remote = await Deno.makeTempDir({ prefix: "kiln-envfile-remote-" });
      const { uid, gid } = await userIds(ENV_FILE_SSH_USER);
      await Deno.chown(remote, uid, gid);
      return { sshd, remote };
    })();

  const run: EnvFileLab["run"] = async (shape, ending, options = {}) => {
    const useEnvVarFile = options.useEnvVarFile ?? true;
    const n = ++count;
    const work = join(dir, `b${n}`);
    await Deno.mkdir(work);
    const home = join(work, ".kiln");
    const secret = trickySecret();
    const plain = `plain value ${crypto.randomUUID().slice(0, 8)}`;
    // -var-file, not -var: kiln's own command line must not hold the value either.
    await Deno.writeTextFile(
      join(work, "vars.json"),
      JSON.stringify({ secret: secret.value, plain }),
    );
    const option = useEnvVarFile ? { use_env_var_file: true } : {};
    const listing = (name: string) => ({
      type: "shell-local",
      inline: [`ls -A "\${TMPDIR:-/tmp}" > ${join(work, name)}`],
    });
    let out = work;
    let envDirs: () => Promise<string[]> = () => runTempDirs(home);
    const template: Record<string, unknown> = {
      variables: { secret: "", plain: "" },
      "sensitive-variables": ["secret"],
    };
    if (shape === "shell over SSH") {
      const { sshd: server, remote: root } = await sshSide();
      out = join(root, `b${n}`);
      await Deno.mkdir(out);
      const { uid, gid } = await userIds(ENV_FILE_SSH_USER);
      await Deno.chown(out, uid, gid);
      const folder = out;
      envDirs = () => Promise.resolve([folder]);
      template.builders = [{
        type: "null",
        ssh_host: server.host,
        ssh_port: server.port,
        ssh_username: ENV_FILE_SSH_USER,
        ssh_password: SSH_PASSWORD,
        ssh_timeout: "30s",
      }];
      template.provisioners = [{
        type: "shell",
        ...option,
        environment_vars: ENV,
        remote_folder: out,
        inline: scriptLines(out, ending),
      }];
    } else if (shape === "shell-local provisioner") {
      template.builders = [{ type: "null", communicator: "none" }];
      template.provisioners = [
        { type: "shell-local", ...option, environment_vars: ENV, inline: scriptLines(out, ending) },
        listing("tmp-after"),
      ];
      template["error-cleanup-provisioner"] = listing("tmp-after-failure");
    } else {
      template.builders = [{
        type: "file",
        content: "artifact",
        target: join(work, "artifact.txt"),
      }];
      template["post-processors"] = [
        { type: "shell-local", ...option, environment_vars: ENV, inline: scriptLines(out, ending) },
        listing("tmp-after"),
      ];
    }
    await Deno.writeTextFile(join(work, "template.json"), JSON.stringify(template));

    const watch = watchArgv(secret.needles);
    const kiln = options.runner === "packer"
      ? watchProcess(
        "packer",
        ["build", "-color=false", "-var-file=vars.json", "template.json"],
        { cwd: work, env: { CHECKPOINT_DISABLE: "1", PACKER_LOG: "" } },
      )
      : watchKiln(["build", "-var-file=vars.json", "template.json"], { cwd: work, home });
    let envFileWhileRunning: EnvFileObservation["envFileWhileRunning"];
    try {
      await kiln.waitFor(new RegExp(SCRIPT_STARTED));
      for (const d of await envDirs()) {
        for (const name of await varFilesIn(d)) {
          const path = join(d, name);
          const info = await Deno.stat(path).catch(() => undefined);
          const content = await readOr(path);
          if (info && content !== undefined) {
            envFileWhileRunning = { path, mode: info.mode! & 0o777, uid: info.uid!, content };
          }
        }
      }
      if (ending === "ctrl-c") kiln.process.kill("SIGINT");
    } catch {
      // kiln ended before the script said it started: the observation shows why.
    }
    const status = await kiln.done();
    const argvHits = await watch.stop();
    const left = new Set<string>();
    for (const name of ["tmp-after", "tmp-after-failure"]) {
      const text = await readOr(join(work, name));
      for (const entry of text?.split("\n") ?? []) {
        if (entry.startsWith("varfile_")) left.add(entry);
      }
    }
    for (const d of await envDirs()) for (const name of await varFilesIn(d)) left.add(name);
    const runs = await runTempDirs(home);
    const log = runs.length === 1 ? await readOr(join(runs[0], "..", "events.jsonl")) : undefined;
    return {
      shape,
      ending,
      useEnvVarFile,
      secret,
      plain,
      code: status.code,
      output: kiln.output(),
      argvHits,
      sweeps: watch.sweeps(),
      seenSecret: await readOr(join(out, "seen-secret")),
      seenPlain: await readOr(join(out, "seen-plain")),
      envFileWhileRunning,
      envFilesLeft: [...left],
      log: log ?? "",
    };
  };

  return {
    run,
    close: async () => {
      await sshd?.stop();
      if (sshd) await Deno.remove(sshd.dir, { recursive: true }).catch(() => {});
      if (remote) await Deno.remove(remote, { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Everything wrong with an observation of a build with use_env_var_file, in
 * words a failure line can show (pieces of the secret are named, never shown).
 */
export function envFileProblems(o: EnvFileObservation): string[] {
  const problems: string[] = [];
  const expectCode = { success: 0, failure: 1, "ctrl-c": 130 }[o.ending];
  if (o.code !== expectCode) {
    problems.push(`kiln exited ${o.code}, expected ${expectCode}: ${o.output.slice(-600)}`);
  }
  if (o.sweeps === 0) problems.push("no sweep of /proc completed during the build");
  for (const hit of o.argvHits) {
    problems.push(`a piece of the secret is in the argv of pid ${hit.pid}`);
  }
  if (o.seenSecret !== o.secret.value) {
    problems.push(`the script saw ${JSON.stringify(o.seenSecret?.length)} chars, not the secret`);
  }
  if (o.seenPlain !== o.plain) problems.push(`the script saw PLAIN=${JSON.stringify(o.seenPlain)}`);
  const file = o.envFileWhileRunning;
  if (!file) problems.push("no env var file was found while the script ran");
  else if (file.mode !== 0o600) {
    problems.push(`the env var file had mode ${file.mode.toString(8)}, expected 600`);
  }
  if (o.envFilesLeft.length > 0) {
    problems.push(`env var file(s) left: ${o.envFilesLeft.join(", ")}`);
  }
  for (const [where, text] of [["the output", o.output], ["the event log", o.log]]) {
    if (o.secret.needles.some((n) => text.includes(n))) problems.push(`the secret is in ${where}`);
    if (/export (SECRET|PLAIN)=/.test(text)) {
      problems.push(`the env var file's lines are in ${where}`);
    }
  }
  if (o.log === "") problems.push("no event log was found");
  return problems;
}
