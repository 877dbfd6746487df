/**
 * Everything from the floors above the runtime that a build needs, in one
 * object handed down to `runBuild`, `resumeRun` and `cleanupRun`: the
 * component registries and the common steps the runtime drives itself.
 * Kept apart from registry.ts so `validate`, which needs only the
 * registries, reaches none of the steps' modules.
 */
import type { Components } from "./runtime/plugins.ts";
import { kilnRegistry } from "./registry.ts";
import { commonSteps } from "./steps/common/mod.ts";

/** kiln's own components. */
export const kilnComponents: Components = { ...kilnRegistry, steps: commonSteps };
