/**
 * Packer's "SSM tunnel" step, for `ssh_interface: session_manager`: SSH
 * through an AWS Session Manager port-forwarding session. kiln has no
 * Session Manager client (it needs the AWS SSM service and Amazon's
 * session-manager-plugin), so the step fails here — after the instance was
 * launched, like Packer's would when the plugin is missing — and the usual
 * compensations remove everything the build created.
 */
import type { Step } from "../../runtime/types.ts";

/** The message a session_manager build fails with. */
export const SESSION_MANAGER_UNSUPPORTED =
  'ssh_interface "session_manager" is not supported by kiln: it needs an AWS Session Manager ' +
  "session (the SSM service and the session-manager-plugin), which kiln cannot open. " +
  'Use ssh_interface "public_ip", "private_ip", "public_dns" or "private_dns".';

/** The "SSM tunnel" step (only in builds with ssh_interface session_manager). */
export function ssmTunnelStep(): Step<Record<string, never>> {
  return {
    id: "aws.ssm_tunnel",
    run(ctx) {
      if (ctx.config.ssh_interface !== "session_manager") return Promise.resolve({});
      return Promise.reject(new Error(SESSION_MANAGER_UNSUPPORTED));
    },
  };
}
