/**
 * Runs the WinRM test listener on its own until Ctrl-C, for trying a
 * template (kiln's or Packer's) by hand or from a script:
 *
 *   deno run -A tests/support/winrm/serve.ts [--https] [--auth basic|ntlm]
 *     [--username vagrant] [--password vagrant] [--root DIR] [--log FILE|-]
 *
 * Prints one JSON line: `{"host", "port", "url", "root", "username"}`.
 * `--log` (or `KILN_WINRM_LOG`) traces every command line, scripts decoded.
 */
import { parseArgs } from "node:util";
import { startWinrmServer } from "./server.ts";
import { commandLogFromEnv, commandLogTo } from "./command_log.ts";

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        https: { type: "boolean" },
        auth: { type: "string", multiple: true },
        username: { type: "string" },
        password: { type: "string" },
        root: { type: "string" },
        log: { type: "string" },
      },
    }));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    Deno.exit(2);
  }
  const auth = values.auth ?? ["basic", "ntlm"];
  const unknown = auth.find((a) => a !== "basic" && a !== "ntlm");
  if (unknown !== undefined) {
    console.error(`--auth: expected basic or ntlm, got '${unknown}'`);
    Deno.exit(2);
  }
  const server = await startWinrmServer({
    https: values.https,
    auth: auth as ("basic" | "ntlm")[],
    username: values.username,
    password: values.password,
    root: values.root,
    log: values.log ? commandLogTo(values.log) : commandLogFromEnv(),
  });
  console.log(JSON.stringify({
    host: server.host,
    port: server.port,
    url: server.url,
    root: server.root,
    username: server.username,
  }));
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", stop.resolve);
  Deno.addSignalListener("SIGTERM", stop.resolve);
  await stop.promise;
  await server.stop();
}
