/**
 * A minimal QMP (QEMU Machine Protocol) client over qemu's unix socket:
 * enough to query status, inject key presses and quit.
 */

/** A connected QMP session. */
export interface QmpClient {
  /** Runs a command and returns its `return` value; a QMP error is thrown with its description. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Events received so far (e.g. SHUTDOWN, POWERDOWN), oldest first. */
  events: { event: string; data?: unknown }[];
  close(): void;
}

/** Connects to `socketPath` (retrying while qemu creates it) and negotiates capabilities. */
export async function connectQmp(socketPath: string, timeoutMs = 10_000): Promise<QmpClient> {
  const deadline = Date.now() + timeoutMs;
  let conn: Deno.UnixConn;
  while (true) {
    try {
      conn = await Deno.connect({ transport: "unix", path: socketPath });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`QMP socket ${socketPath} never answered: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const lines = readLines(conn);
  const events: { event: string; data?: unknown }[] = [];
  const next = async (): Promise<Record<string, unknown>> => {
    while (true) {
      const { value, done } = await lines.next();
      if (done) throw new Error("qemu closed the QMP connection");
      const message = JSON.parse(value);
      if ("event" in message) events.push({ event: message.event, data: message.data });
      else return message;
    }
  };
  const writer = conn.writable.getWriter();
  const execute = async (command: string, args?: Record<string, unknown>) => {
    await writer.write(
      new TextEncoder().encode(JSON.stringify({ execute: command, arguments: args }) + "\n"),
    );
    const reply = await next();
    if ("error" in reply) {
      const error = reply.error as { class: string; desc: string };
      throw new Error(`QMP ${command}: ${error.class}: ${error.desc}`);
    }
    return reply.return;
  };
  await next(); // the greeting
  await execute("qmp_capabilities");
  return { execute, events, close: () => conn.close() };
}

async function* readLines(conn: Deno.UnixConn): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of conn.readable) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield line;
    }
  }
}
