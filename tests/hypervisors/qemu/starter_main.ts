/**
 * A stand-in for kiln in the process tests: starts qemu through process.ts
 * with the options given as JSON in its first argument, prints the identity
 * as one JSON line, then lives on holding its QMP session — until the test
 * kills it with SIGKILL.
 */
import { startQemu, type StartQemuOptions } from "../../../hypervisors/qemu/process.ts";

const options = JSON.parse(Deno.args[0]) as StartQemuOptions;
const started = await startQemu(options);
console.log(JSON.stringify(started.identity));
setInterval(() => {}, 60_000);
