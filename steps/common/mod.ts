/**
 * The common steps' parts the runtime drives itself (reopening a resumed
 * build's connection, the error-cleanup-provisioner), handed down to it
 * from the top of kiln (components.ts).
 */
import type { CommonSteps } from "../../runtime/plugin_types.ts";
import { CONNECT_STEP_ID, reconnectBuild } from "./connect.ts";
import { PROVISION_STEP_ID, runErrorCleanupProvisioner } from "./provision.ts";

/** The connect and provision steps, as the runtime sees them. */
export const commonSteps: CommonSteps = {
  connectStepId: CONNECT_STEP_ID,
  reconnect: reconnectBuild,
  provisionStepId: PROVISION_STEP_ID,
  runErrorCleanupProvisioner,
};
