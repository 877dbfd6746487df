/**
 * Sweeps a run directory's temp link as kiln's next command would, in a
 * process of its own: TMPDIR is process-wide, so the test process must not
 * change it. Usage: run_temp_probe.ts RUN_DIR (TMPDIR from the environment).
 */
import { removeRunTempDir } from "../../../runtime/run_temp.ts";

await removeRunTempDir(Deno.args[0]);
