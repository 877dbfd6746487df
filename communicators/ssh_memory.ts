/**
 * Keeps the memory of long transfers bounded. ssh2 allocates a fresh buffer
 * for every packet it frames and another for every packet it encrypts, and
 * Deno's node layer adds its own per socket write, so a 1 GiB upload churns
 * through several GiB of short-lived ArrayBuffers. V8 reclaims those only
 * once external memory has grown by about 64 MiB since its last collection,
 * and the process keeps the pages it grew into: a 1 GiB build peaked at
 * 231 MiB (scp) and 228 MiB (sftp) in bench/ssh_build.ts. Collecting the
 * young generation when external memory passes a much lower mark, checked
 * every few MiB moved, cuts that to about 110 MiB (with the AES-CTR default
 * of ssh_connect.ts) without a measurable loss of throughput: the check is
 * cheap and a collection runs only when there is garbage to reclaim. A lower
 * mark than 12 MiB collects so often that uploads slow down.
 */
import v8 from "node:v8";
import vm from "node:vm";

/** Bytes moved between two looks at external memory. */
const CHECK_EVERY = 8 << 20;
/** External memory above which a transfer collects its garbage. */
const EXTERNAL_LIMIT = 12 << 20;

type Gc = (options?: { type?: "minor" | "major"; execution?: "sync" | "async" }) => void;

/** V8's gc(), once looked up; null before the first lookup, undefined when unavailable. */
let gc: Gc | undefined | null = null;

function collector(): Gc | undefined {
  if (gc !== null) return gc;
  gc = undefined;
  try {
    // Neither Deno nor the CLI's `deno run -A` expose gc(); V8 hands it to a
    // context created while the flag is on. Only that sandbox context sees it.
    v8.setFlagsFromString("--expose-gc");
    const found: unknown = vm.runInNewContext("gc");
    if (typeof found === "function") gc = found as Gc;
  } catch {
    // Without it, transfers still work: V8 collects on its own schedule.
  } finally {
    v8.setFlagsFromString("--no-expose-gc");
  }
  return gc;
}

/** Counts the bytes one transfer moves and reclaims its garbage as it goes. */
export class TransferMemory {
  #sinceCheck = 0;

  /** Records `bytes` more moved; every few MiB, collects if external memory is high. */
  moved(bytes: number): void {
    this.#sinceCheck += bytes;
    if (this.#sinceCheck < CHECK_EVERY) return;
    this.#sinceCheck = 0;
    if (Deno.memoryUsage().external < EXTERNAL_LIMIT) return;
    collector()?.({ type: "minor", execution: "sync" });
  }
}
