/**
 * A QMP (QEMU Machine Protocol) client over qemu's unix socket.
 *
 * One QMP socket serves one client at a time: qemu accepts a second
 * connection at the socket level (the kernel's backlog) but sends it no
 * greeting until the first client disconnects. A client that connects while
 * another holds the socket therefore waits for the greeting until its timeout
 * and is told so ({@link QmpBusyError}). Reattaching after the first client
 * died (kiln killed with `kill -9`) works at once: the kernel closes the dead
 * client's end and qemu greets the next one. A VM that needs several
 * simultaneous clients gets several monitors (`-chardev socket,...` +
 * `-mon chardev=...,mode=control`, one socket each).
 *
 * Every command carries an id; replies are matched by id, so a reply that
 * arrives after its command timed out is dropped instead of answering the
 * next command. Events are kept for listeners registered before they arrive.
 */

/** An asynchronous event qemu sent (SHUTDOWN, POWERDOWN, STOP, RESUME, ...). */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

/** What qemu says first on a new connection. */
export interface QmpGreeting {
  version: {
    qemu: { major: number; minor: number; micro: number };
    package: string;
  };
  capabilities: string[];
}

/** `query-status`: whether the guest's CPUs run, and why not. */
export interface QmpStatus {
  /** "running", "paused", "prelaunch", "shutdown", "internal-error", ... */
  status: string;
  running: boolean;
  singlestep?: boolean;
}

/** `query-vnc`: the VNC server, if any. */
export interface QmpVncInfo {
  enabled: boolean;
  host?: string;
  service?: string;
  family?: string;
  auth?: string;
  clients?: unknown[];
}

/** qemu answered a command with an error (the command reached qemu). */
export class QmpCommandError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly description: string,
  ) {
    super(`QMP ${command} failed: ${errorClass}: ${description}`);
    this.name = "QmpCommandError";
  }
}

/** The connection is not usable: no socket, nobody listening, closed, or timed out. */
export class QmpConnectionError extends Error {
  constructor(readonly socketPath: string, message: string) {
    super(message);
    this.name = "QmpConnectionError";
  }
}

/** Connected, but qemu sent no greeting: another client holds this QMP socket. */
export class QmpBusyError extends QmpConnectionError {
  constructor(socketPath: string, ms: number) {
    super(
      socketPath,
      `qemu sent no QMP greeting on ${socketPath} within ${ms} ms: another client is probably ` +
        `attached (qemu serves one client per QMP socket at a time)`,
    );
    this.name = "QmpBusyError";
  }
}

/** A command got no reply in time; the connection stays usable. */
export class QmpTimeoutError extends Error {
  constructor(readonly command: string, ms: number, socketPath: string) {
    super(`QMP ${command} got no reply within ${ms} ms on ${socketPath}`);
    this.name = "QmpTimeoutError";
  }
}

/** How to connect. */
export interface QmpConnectOptions {
  /** Budget for connecting, the greeting and capability negotiation (default 10 s). */
  timeoutMs?: number;
  /**
   * Keep retrying while the socket is missing or refuses connections, until
   * `timeoutMs`: for a qemu that is still starting (default false).
   */
  waitForSocket?: boolean;
  /** Default per-command reply timeout (default 30 s). */
  commandTimeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_CONNECT_MS = 10_000;
const DEFAULT_COMMAND_MS = 30_000;
const RETRY_MS = 25;
/** Events remembered for late listeners of `waitForEvent({ includePast })`. */
const EVENT_HISTORY = 256;

type Pending = {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
};

/**
 * Connects to the QMP socket at `socketPath`, reads the greeting and
 * negotiates capabilities. Throws {@link QmpConnectionError} (or
 * {@link QmpBusyError}) with the socket path and the reason.
 */
export async function connectQmp(
  socketPath: string,
  options: QmpConnectOptions = {},
): Promise<QmpClient> {
  const budget = options.timeoutMs ?? DEFAULT_CONNECT_MS;
  const deadline = Date.now() + budget;
  let conn: Deno.UnixConn | undefined;
  while (!conn) {
    options.signal?.throwIfAborted();
    try {
      conn = await Deno.connect({ transport: "unix", path: socketPath });
    } catch (err) {
      const missing = err instanceof Deno.errors.NotFound;
      const refused = err instanceof Deno.errors.ConnectionRefused;
      if ((missing || refused) && options.waitForSocket && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, RETRY_MS));
        continue;
      }
      throw new QmpConnectionError(socketPath, describeConnectError(socketPath, err));
    }
  }
  const client = new QmpClient(conn, socketPath, options.commandTimeoutMs ?? DEFAULT_COMMAND_MS);
  const left = Math.max(deadline - Date.now(), 1);
  try {
    await client.handshake(left, budget);
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}

function describeConnectError(socketPath: string, err: unknown): string {
  if (err instanceof Deno.errors.NotFound) {
    return `no QMP socket at ${socketPath} (qemu is not running, or was started with another socket)`;
  }
  if (err instanceof Deno.errors.ConnectionRefused) {
    return `nothing listens on the QMP socket ${socketPath} (qemu exited and left the socket file)`;
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return `may not connect to the QMP socket ${socketPath}: permission denied`;
  }
  return `cannot connect to the QMP socket ${socketPath}: ${
    err instanceof Error ? err.message : String(err)
  }`;
}

/** A connected, negotiated QMP session. Use {@link connectQmp} to get one. */
export class QmpClient {
  /** What qemu announced on connection (valid after connectQmp resolved). */
  greeting!: QmpGreeting;
  /** Resolves (never rejects) with why the connection ended, once it has. */
  readonly closed: Promise<QmpConnectionError>;

  #conn: Deno.UnixConn;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #nextId = 1;
  #pending = new Map<string, Pending>();
  #history: QmpEvent[] = [];
  #listeners = new Set<(e: QmpEvent) => void>();
  #closeListeners = new Set<(err: QmpConnectionError) => void>();
  #greetingWaiter?: (g: QmpGreeting) => void;
  #endedBy?: QmpConnectionError;
  #markClosed!: (err: QmpConnectionError) => void;
  #closing = false;

  /** @internal use {@link connectQmp} */
  constructor(conn: Deno.UnixConn, readonly socketPath: string, readonly commandTimeoutMs: number) {
    this.#conn = conn;
    this.#writer = conn.writable.getWriter();
    this.closed = new Promise((resolve) => this.#markClosed = resolve);
    this.#readLoop();
  }

  /** @internal the greeting and `qmp_capabilities`, within `ms`. */
  async handshake(ms: number, budget: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const greeting = await Promise.race([
      new Promise<QmpGreeting>((resolve) => this.#greetingWaiter = resolve),
      this.closed.then((err) => Promise.reject(err)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QmpBusyError(this.socketPath, budget)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
    this.greeting = greeting;
    await this.execute("qmp_capabilities", undefined, { timeoutMs: ms });
  }

  /**
   * Runs `command` and resolves with its `return` value. Rejects with
   * {@link QmpCommandError} when qemu refuses it, {@link QmpTimeoutError}
   * when no reply comes in time, {@link QmpConnectionError} when the
   * connection is (or becomes) unusable.
   */
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    options: { timeoutMs?: number } = {},
  ): Promise<T> {
    if (this.#endedBy) {
      return Promise.reject(
        new QmpConnectionError(
          this.socketPath,
          `QMP ${command} not sent: ${this.#endedBy.message}`,
        ),
      );
    }
    const id = `kiln-${this.#nextId++}`;
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { command, resolve: resolve as (v: unknown) => void, reject };
      pending.timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new QmpTimeoutError(command, timeoutMs, this.socketPath));
      }, timeoutMs);
      this.#pending.set(id, pending);
      const message = JSON.stringify({
        execute: command,
        ...(args ? { arguments: args } : {}),
        id,
      });
      this.#writer.write(new TextEncoder().encode(message + "\n")).catch((err) => {
        this.#end(`writing to the QMP socket failed: ${err instanceof Error ? err.message : err}`);
      });
    });
  }

  /** `query-status`. */
  queryStatus(): Promise<QmpStatus> {
    return this.execute<QmpStatus>("query-status");
  }

  /** `system_powerdown`: presses the ACPI power button (the guest decides what to do). */
  async systemPowerdown(): Promise<void> {
    await this.execute("system_powerdown");
  }

  /**
   * `quit`: qemu exits at once. qemu may close the connection before its
   * reply arrives; that counts as done.
   */
  async quit(): Promise<void> {
    try {
      await this.execute("quit");
    } catch (err) {
      if (!(err instanceof QmpConnectionError)) throw err;
    }
  }

  /** `cont`: resumes a paused (`-S`, `stop`) guest. */
  async cont(): Promise<void> {
    await this.execute("cont");
  }

  /** `stop`: pauses the guest's CPUs. */
  async stop(): Promise<void> {
    await this.execute("stop");
  }

  /** `human-monitor-command`: runs an HMP command line and returns its text output. */
  humanMonitorCommand(commandLine: string): Promise<string> {
    return this.execute<string>("human-monitor-command", { "command-line": commandLine });
  }

  /**
   * `send-key`: presses `keys` together and releases them (a chord such as
   * ["ctrl", "alt", "delete"]); names are QKeyCodes ("a", "ret", "shift",
   * "f12", ...). `holdTimeMs` is how long they stay down (qemu's default 100).
   */
  async sendKey(keys: readonly string[], holdTimeMs?: number): Promise<void> {
    await this.execute("send-key", {
      keys: keys.map((k) => ({ type: "qcode", data: k })),
      ...(holdTimeMs !== undefined ? { "hold-time": holdTimeMs } : {}),
    });
  }

  /** `query-vnc`. */
  queryVnc(): Promise<QmpVncInfo> {
    return this.execute<QmpVncInfo>("query-vnc");
  }

  /** `query-name`: the `-name` given to qemu (undefined when none). */
  async queryName(): Promise<string | undefined> {
    const info = await this.execute<{ name?: string }>("query-name");
    return info.name;
  }

  /** `query-kvm`: whether KVM is compiled in and in use (in use says nothing of a guest running). */
  queryKvm(): Promise<{ enabled: boolean; present: boolean }> {
    return this.execute("query-kvm");
  }

  /** Calls `listener` for each event from now on; returns the unsubscribe function. */
  onEvent(listener: (event: QmpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events received so far (the most recent 256), oldest first. */
  get pastEvents(): readonly QmpEvent[] {
    return this.#history;
  }

  /**
   * Resolves with the next `name` event. Register it before the command that
   * causes the event, or pass `includePast` to accept one already received.
   * Rejects on timeout, and when the connection ends first.
   */
  waitForEvent(
    name: string,
    options: { timeoutMs?: number; includePast?: boolean } = {},
  ): Promise<QmpEvent> {
    if (options.includePast) {
      const past = this.#history.find((e) => e.event === name);
      if (past) return Promise.resolve(past);
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
      const timer = setTimeout(() => {
        off();
        reject(new QmpTimeoutError(`event ${name}`, timeoutMs, this.socketPath));
      }, timeoutMs);
      const off = this.onEvent((e) => {
        if (e.event !== name) return;
        clearTimeout(timer);
        off();
        offClose();
        resolve(e);
      });
      const offClose = this.#onClose((err) => {
        clearTimeout(timer);
        off();
        reject(err);
      });
    });
  }

  /** Async iteration over the events from now until the connection ends. */
  async *events(): AsyncGenerator<QmpEvent> {
    const queue: QmpEvent[] = [];
    let wake: (() => void) | undefined;
    const off = this.onEvent((e) => {
      queue.push(e);
      wake?.();
    });
    let ended = false;
    const offClose = this.#onClose(() => {
      ended = true;
      wake?.();
    });
    try {
      while (true) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (ended) return;
        await new Promise<void>((r) => wake = r);
        wake = undefined;
      }
    } finally {
      off();
      offClose();
    }
  }

  /** Calls `fn` once the connection ends (at once if it has); returns the unsubscribe function. */
  #onClose(fn: (err: QmpConnectionError) => void): () => void {
    if (this.#endedBy) {
      const err = this.#endedBy;
      queueMicrotask(() => fn(err));
      return () => {};
    }
    this.#closeListeners.add(fn);
    return () => this.#closeListeners.delete(fn);
  }

  /** Closes the connection; commands still waiting reject. Idempotent. */
  close(): void {
    this.#closing = true;
    this.#end("the QMP client was closed");
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  async #readLoop(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for await (const chunk of this.#conn.readable) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) this.#dispatch(line);
        }
      }
      this.#end(`qemu closed the QMP connection on ${this.socketPath} (the VM exited?)`);
    } catch (err) {
      if (this.#closing) this.#end("the QMP client was closed");
      else if (err instanceof Deno.errors.ConnectionReset) {
        // qemu died with our request unread: the kernel resets instead of closing.
        this.#end(`qemu closed the QMP connection on ${this.socketPath} (the VM exited?)`);
      } else {
        const detail = err instanceof Error ? err.message : String(err);
        this.#end(`the QMP connection on ${this.socketPath} broke: ${detail}`);
      }
    }
  }

  #dispatch(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line);
    } catch {
      return; // Not QMP; nothing else speaks on this socket.
    }
    if ("QMP" in message) {
      this.#greetingWaiter?.(message.QMP as QmpGreeting);
      this.#greetingWaiter = undefined;
      return;
    }
    if (typeof message.event === "string") {
      const event = message as unknown as QmpEvent;
      this.#history.push(event);
      if (this.#history.length > EVENT_HISTORY) this.#history.shift();
      for (const listener of [...this.#listeners]) listener(event);
      return;
    }
    // A reply without id answers a command qemu could not parse: the oldest one.
    const id = typeof message.id === "string" ? message.id : this.#pending.keys().next().value;
    if (id === undefined) return;
    const pending = this.#pending.get(id);
    if (!pending) return; // Its command timed out already.
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if ("error" in message) {
      const error = message.error as { class?: string; desc?: string };
      pending.reject(
        new QmpCommandError(pending.command, error.class ?? "Error", error.desc ?? "(no detail)"),
      );
    } else {
      pending.resolve(message.return);
    }
  }

  #end(reason: string): void {
    if (this.#endedBy) return;
    const error = new QmpConnectionError(this.socketPath, reason);
    this.#endedBy = error;
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(
        new QmpConnectionError(this.socketPath, `QMP ${pending.command} got no reply: ${reason}`),
      );
    }
    this.#markClosed(error);
    for (const fn of [...this.#closeListeners]) fn(error);
    this.#closeListeners.clear();
  }
}
