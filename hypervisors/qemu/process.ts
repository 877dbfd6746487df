/**
 * A qemu process that outlives kiln: started detached in its own session
 * (a `kill -9` of kiln, or of kiln's process group, leaves it running),
 * identified so that a later kiln finds exactly it again, reattached to over
 * QMP, and stopped — politely first, and only while the identity matches.
 *
 * Identity = boot id + pid + start time (field 22 of /proc/<pid>/stat) + a
 * run tag on qemu's command line. The tag is the id of kiln's own QMP
 * monitor, which kiln appends after the template's arguments:
 *
 *     -chardev socket,id=<tag>,path=<socket>,server=on,wait=off
 *     -mon chardev=<tag>,mode=control
 *
 * Why this form: the command line is readable by everyone and shown by `ps`,
 * so a person can tell which run a qemu belongs to; a template's `qemuargs`
 * can replace `-name`, `-uuid` or `-qmp` but not an argument kiln adds after
 * the merge; and the monitor is kiln's alone — a user's `qmp_socket_path`
 * client cannot lock kiln out, since qemu serves one client per socket. The
 * start time is read from the pid kiln spawned before qemu runs (a gate
 * holds it), and exec keeps both the pid and the start time, so the identity
 * can be logged before qemu exists: a kiln killed before it logged the
 * identity closes the gate's pipe and qemu never starts.
 */
import { qemuOptValue } from "./argv.ts";
import { connectQmp, type QmpClient } from "./qmp.ts";
import { currentBootId, isGone, procCmdline, procInfo } from "./proc.ts";

/** What names one qemu process across kiln processes; JSON-safe, for the ledger. */
export interface QemuIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat when kiln spawned it. */
  startTicks: string;
  /** /proc/sys/kernel/random/boot_id then. */
  bootId: string;
  /** kiln's own QMP socket for this qemu. */
  qmpSocket: string;
  /** The run tag: the id of kiln's monitor on qemu's command line. */
  tag: string;
  /** Where qemu's stdout and stderr go. */
  logFile: string;
}

/** How to start qemu. */
export interface StartQemuOptions {
  /** The qemu binary (a path, or a name looked up in PATH), e.g. qemu-system-x86_64. */
  binary: string;
  /** qemu's arguments (see argv.ts); kiln's monitor is appended after them. */
  args: readonly string[];
  /** The run tag: a qemu id (a letter, then letters, digits, "-", "." or "_"; at most 64). */
  tag: string;
  /** kiln's QMP socket path (at most 107 bytes: the unix socket limit); a stale file is replaced. */
  qmpSocket: string;
  /** qemu's stdout and stderr are appended here. */
  logFile: string;
  cwd?: string;
  /** Added to kiln's environment for qemu. */
  env?: Record<string, string>;
  /**
   * Called with the identity while qemu is held at the gate: record it
   * (write-ahead) here. If it throws, qemu never runs and start rejects.
   */
  beforeStart?: (identity: QemuIdentity) => Promise<void> | void;
  /** How long qemu may take to answer on QMP (default 30 s). */
  readyTimeoutMs?: number;
}

/** A qemu this process started. */
export interface StartedQemu {
  identity: QemuIdentity;
  /** The full command line, binary first. */
  argv: string[];
  /** A QMP session on kiln's monitor (the only one qemu serves on it until closed). */
  qmp: QmpClient;
  /**
   * Waits for qemu to exit (only the process that started it can). qemu is
   * unref'd so that kiln may exit while it runs; waiting here holds kiln.
   */
  exited(): Promise<Deno.CommandStatus>;
}

/** qemu did not come up: it exited, or never answered on QMP. */
export class QemuStartError extends Error {
  constructor(message: string, readonly log: string) {
    super(message);
    this.name = "QemuStartError";
  }
}

/** The identity names no running process (any more). */
export class QemuGoneError extends Error {
  constructor(readonly identity: QemuIdentity, readonly reason: string) {
    super(`qemu ${identity.tag} (pid ${identity.pid}) is not running: ${reason}`);
    this.name = "QemuGoneError";
  }
}

/** Whether an identity names a running process, and if not, why. */
export type QemuLiveness = { alive: true } | { alive: false; reason: string };

/** How `stopQemu` ended it. */
export type QemuStopOutcome = "gone" | "powered-off" | "quit" | "terminated" | "killed";

/** How to stop. */
export interface StopQemuOptions {
  /** Press the ACPI power button first and wait for the guest to power off (default true). */
  graceful?: boolean;
  /** How long the guest may take to power off (default 60 s). */
  timeoutMs?: number;
  /** How long `quit`, then SIGTERM, each get before the next step (default 5 s). */
  stepTimeoutMs?: number;
  /**
   * A QMP session already open on this qemu's socket (qemu would not greet a
   * second one): used instead of connecting.
   */
  qmp?: QmpClient;
  /** Told of each step taken ("powering off", "quit", "SIGTERM", "SIGKILL"). */
  onStep?: (step: string) => void;
}

/** The longest unix socket path Linux accepts (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

const TAG = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const POLL_MS = 50;
const KILL_WAIT_MS = 5_000;

/**
 * Holds the shell until "go" arrives on stdin, then becomes qemu (exec keeps
 * the pid and its start time) with its output appended to the log. A kiln
 * that dies first closes the pipe: `read` fails and qemu never runs.
 */
const GATE = 'log=$1; shift; IFS= read -r go && [ "$go" = go ] && ' +
  'exec "$@" </dev/null >>"$log" 2>&1; exit 125';

/** The arguments kiln appends: its own QMP monitor, whose id is the run tag. */
export function monitorArgs(tag: string, qmpSocket: string): string[] {
  return [
    "-chardev",
    `socket,id=${tag},path=${qemuOptValue(qmpSocket)},server=on,wait=off`,
    "-mon",
    `chardev=${tag},mode=control`,
  ];
}

/**
 * Starts qemu detached in its own session and resolves once it answers on
 * QMP. Rejects with {@link QemuStartError} (qemu's own words from the log)
 * when it exits first or stays silent.
 */
export async function startQemu(options: StartQemuOptions): Promise<StartedQemu> {
  checkStartOptions(options);
  const bootId = currentBootId();
  if (!bootId) throw new QemuStartError("cannot read /proc/sys/kernel/random/boot_id", "");
  const argv = [options.binary, ...options.args, ...monitorArgs(options.tag, options.qmpSocket)];
  try {
    await Deno.writeFile(options.logFile, new Uint8Array(), { append: true });
  } catch (err) {
    throw new QemuStartError(
      `cannot write qemu's log ${options.logFile}: ${err instanceof Error ? err.message : err}`,
      "",
    );
  }
  const logStart = await fileSize(options.logFile);
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", GATE, "kiln-qemu", options.logFile, ...argv],
    cwd: options.cwd,
    env: options.env,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
    // Its own session: signals to kiln's process group or terminal never reach it.
    detached: true,
  }).spawn();
  const exited = child.status;
  const info = procInfo(child.pid);
  const gate = child.stdin.getWriter();
  const identity: QemuIdentity = {
    pid: child.pid,
    startTicks: info?.startTicks ?? "",
    bootId,
    qmpSocket: options.qmpSocket,
    tag: options.tag,
    logFile: options.logFile,
  };
  try {
    if (!info) throw new QemuStartError(`qemu's process ${child.pid} vanished at once`, "");
    await options.beforeStart?.(identity);
    await gate.write(new TextEncoder().encode("go\n"));
    await gate.close();
  } catch (err) {
    await gate.close().catch(() => {});
    await exited;
    throw err;
  }
  child.unref(); // kiln may exit while qemu runs on.
  const budget = options.readyTimeoutMs ?? 30_000;
  let qmp: QmpClient;
  const giveUp = new AbortController();
  exited.then(() => giveUp.abort());
  try {
    qmp = await connectQmp(options.qmpSocket, {
      waitForSocket: true,
      timeoutMs: budget,
      signal: giveUp.signal,
    });
  } catch (err) {
    const status = await settledWithin(exited, 500);
    const log = await readFrom(options.logFile, logStart);
    if (status) throw new QemuStartError(startFailure(argv[0], status, log), log);
    // Silent but running: end it, so a failed start leaves nothing behind.
    await stopQemu(identity, { graceful: false, stepTimeoutMs: 1_000 });
    const reason = err instanceof Error ? err.message : String(err);
    throw new QemuStartError(
      `qemu (pid ${child.pid}) did not answer on QMP within ${budget} ms: ${reason}` +
        (log.trim() ? `\nqemu said: ${log.trim()}` : ""),
      log,
    );
  }
  const waitExit = async () => {
    child.ref();
    try {
      return await exited;
    } finally {
      child.unref();
    }
  };
  return { identity, argv, qmp, exited: waitExit };
}

/** The value of `promise` if it settles within `ms`, else undefined. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function startFailure(binary: string, status: Deno.CommandStatus, log: string): string {
  const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
  const said = log.trim();
  if (status.code === 127) {
    return `cannot run ${binary}: not found${said ? ` (${said})` : ""}`;
  }
  if (status.code === 126) return `cannot run ${binary}: not executable${said ? ` (${said})` : ""}`;
  return `qemu ${how} while starting` + (said ? `: ${said}` : " (it wrote nothing)");
}

function checkStartOptions(options: StartQemuOptions): void {
  if (!TAG.test(options.tag)) {
    throw new TypeError(
      `qemu run tag ${
        JSON.stringify(options.tag)
      }: expected a letter, then up to 63 letters, digits, "-", "." or "_"`,
    );
  }
  const bytes = new TextEncoder().encode(options.qmpSocket).length;
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new TypeError(
      `QMP socket path ${options.qmpSocket} is ${bytes} bytes: unix sockets allow at most ` +
        `${MAX_SOCKET_PATH_BYTES}; choose a shorter directory`,
    );
  }
  if (options.args.includes("-daemonize")) {
    throw new TypeError(
      "qemu argument -daemonize is not supported: kiln tracks the qemu process it starts, " +
        "and -daemonize would replace it with another",
    );
  }
}

/**
 * Whether `identity` names a running process: same boot, same pid and start
 * time (a reused pid has another), not a zombie, and the run tag on its
 * command line.
 */
export function findByIdentity(identity: QemuIdentity): QemuLiveness {
  const boot = currentBootId();
  if (boot !== identity.bootId) {
    return { alive: false, reason: "the machine has rebooted since it started" };
  }
  const info = procInfo(identity.pid);
  if (!info) return { alive: false, reason: `no process ${identity.pid}` };
  if (info.startTicks !== identity.startTicks) {
    return {
      alive: false,
      reason:
        `pid ${identity.pid} now belongs to another process (started at tick ${info.startTicks},` +
        ` not ${identity.startTicks})`,
    };
  }
  if (isGone(info)) return { alive: false, reason: `process ${identity.pid} has exited` };
  const marker = `socket,id=${identity.tag},`;
  if (!procCmdline(identity.pid).some((arg) => arg.startsWith(marker))) {
    return {
      alive: false,
      reason: `process ${identity.pid} does not carry the run tag ${identity.tag}`,
    };
  }
  return { alive: true };
}

/**
 * A QMP session with the qemu `identity` names — for a kiln that did not
 * start it (resume after `kill -9`). Throws {@link QemuGoneError} when that
 * qemu is not running.
 */
export async function reattach(
  identity: QemuIdentity,
  options: { timeoutMs?: number } = {},
): Promise<QmpClient> {
  const live = findByIdentity(identity);
  if (!live.alive) throw new QemuGoneError(identity, live.reason);
  return await connectQmp(identity.qmpSocket, { timeoutMs: options.timeoutMs ?? 10_000 });
}

/**
 * Ends the qemu `identity` names: ACPI power-off and a wait (when graceful),
 * then QMP `quit`, then SIGTERM, then SIGKILL — each only while the identity
 * still matches, so a record of another process is never signalled.
 */
export async function stopQemu(
  identity: QemuIdentity,
  options: StopQemuOptions = {},
): Promise<QemuStopOutcome> {
  if (!findByIdentity(identity).alive) return "gone";
  const step = options.stepTimeoutMs ?? 5_000;
  let qmp = options.qmp;
  let opened = false;
  const session = async (): Promise<QmpClient | undefined> => {
    if (qmp) return qmp;
    try {
      qmp = await connectQmp(identity.qmpSocket, { timeoutMs: step });
      opened = true;
    } catch {
      qmp = undefined;
    }
    return qmp;
  };
  try {
    if (options.graceful ?? true) {
      const client = await session();
      if (client && await powerOff(client, identity, options.timeoutMs ?? 60_000, step, options)) {
        return "powered-off";
      }
    }
    const client = await session();
    if (client) {
      options.onStep?.("quit");
      await client.quit().catch(() => {});
      if (await waitGone(identity, step)) return "quit";
    }
    if (!signalIfOurs(identity, "SIGTERM")) return "gone";
    options.onStep?.("SIGTERM");
    if (await waitGone(identity, step)) return "terminated";
    if (!signalIfOurs(identity, "SIGKILL")) return "gone";
    options.onStep?.("SIGKILL");
    if (await waitGone(identity, KILL_WAIT_MS)) return "killed";
    throw new Error(`qemu ${identity.tag} (pid ${identity.pid}) survived SIGKILL`);
  } finally {
    if (opened) qmp?.close();
  }
}

/**
 * Presses the power button and waits for the process to end. A SHUTDOWN
 * event shortens the wait: qemu exits right after it unless started with
 * `-no-shutdown`, and then `quit` is what ends it.
 */
async function powerOff(
  client: QmpClient,
  identity: QemuIdentity,
  timeoutMs: number,
  stepMs: number,
  options: StopQemuOptions,
): Promise<boolean> {
  let shutdown = false;
  const off = client.onEvent((e) => {
    if (e.event === "SHUTDOWN") shutdown = true;
  });
  try {
    options.onStep?.("powering off");
    try {
      await client.systemPowerdown();
    } catch {
      return false;
    }
    const end = Date.now() + timeoutMs;
    while (Date.now() < end && !shutdown) {
      if (!findByIdentity(identity).alive) return true;
      await sleep(POLL_MS);
    }
    return await waitGone(identity, shutdown ? stepMs : 0);
  } finally {
    off();
  }
}

function signalIfOurs(identity: QemuIdentity, signal: Deno.Signal): boolean {
  if (!findByIdentity(identity).alive) return false;
  try {
    Deno.kill(identity.pid, signal);
    return true;
  } catch {
    return false; // Gone in between.
  }
}

/** Whether the identity stops naming a live process within `ms`. */
async function waitGone(identity: QemuIdentity, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!findByIdentity(identity).alive) return true;
    await sleep(POLL_MS);
  }
  return !findByIdentity(identity).alive;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** What the log holds after `offset` (the last 4 KiB of it). */
async function readFrom(path: string, offset: number): Promise<string> {
  try {
    const bytes = await Deno.readFile(path);
    const slice = bytes.subarray(Math.max(offset, bytes.length - 4096));
    return new TextDecoder().decode(slice);
  } catch {
    return "";
  }
}
