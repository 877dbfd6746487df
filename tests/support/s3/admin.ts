/**
 * The emulator's admin path, for tests that run it in another process
 * (serve.ts): JSON over HTTP under `/_emulator/`.
 *
 *   GET  /_emulator/faults          the switches in force
 *   POST /_emulator/faults          replace them (a JSON S3FaultOptions object)
 *   GET  /_emulator/calls           {"calls": {op: n}, "injected": {code: n}}
 *   POST /_emulator/calls/reset     zero both counters
 *   POST /_emulator/offline         refuse connections; {"ms": N} comes back after N ms
 *   POST /_emulator/online          accept connections again (same port)
 */
import { parseFaultOptions, type S3FaultInjector } from "./faults.ts";

/** What the admin path drives. */
export interface AdminTarget {
  faults: S3FaultInjector;
  calls: Map<string, number>;
  /** `spare`: the backend-side port of the connection asking, left open so the answer arrives. */
  goOffline(ms?: number, spare?: number): Promise<void>;
  goOnline(): void;
}

/** The path prefix of admin requests. */
export const ADMIN_PREFIX = "/_emulator/";

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value) + "\n", {
    status,
    headers: { "content-type": "application/json" },
  });
}

async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new Error("the request body is not JSON");
  }
}

/** Answers one admin request; `connection` is the backend-side port it came on, when known. */
export async function handleAdmin(
  target: AdminTarget,
  request: Request,
  connection?: number,
): Promise<Response> {
  const path = new URL(request.url).pathname.slice(ADMIN_PREFIX.length);
  const route = `${request.method} ${path}`;
  try {
    switch (route) {
      case "GET faults":
        return json(target.faults.options);
      case "POST faults":
        target.faults.configure(parseFaultOptions(await jsonBody(request)));
        return json(target.faults.options);
      case "GET calls":
        return json({
          calls: Object.fromEntries(target.calls),
          injected: Object.fromEntries(target.faults.injected),
        });
      case "POST calls/reset":
        target.calls.clear();
        target.faults.injected.clear();
        return json({ ok: true });
      case "POST offline": {
        const body = await jsonBody(request) as { ms?: unknown };
        if (body.ms !== undefined && (typeof body.ms !== "number" || body.ms < 0)) {
          throw new Error("ms must be a number of milliseconds");
        }
        await target.goOffline(body.ms as number | undefined, connection);
        // The spared connection closes after this answer, so nothing reaches S3 through it.
        const answer = json({ offline: true });
        answer.headers.set("connection", "close");
        return answer;
      }
      case "POST online":
        target.goOnline();
        return json({ offline: false });
    }
    await request.body?.cancel();
    return json({ error: `no admin route ${route}` }, 404);
  } catch (err) {
    return json({ error: err instanceof Error ? err.message : String(err) }, 400);
  }
}
