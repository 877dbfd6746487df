/**
 * ssh_clear_authorized_keys: removes the temporary public key from the
 * instance before it is bundled, so the image does not trust it.
 */
import type { Step } from "../../runtime/types.ts";
import type { KeyPairOutput } from "./key_pair.ts";
import { runRemote } from "./remote.ts";

/** The "cleanup temp keys" step. */
export function cleanupTempKeysStep(): Step<Record<string, never>> {
  return {
    id: "aws.cleanup_temp_keys",
    async run(ctx) {
      const keyPair = ctx.state["aws.key_pair"] as KeyPairOutput | undefined;
      if (!ctx.config.ssh_clear_authorized_keys || !keyPair?.temporary) return {};
      ctx.ui.say("Trying to remove ephemeral keys from authorized_keys files");
      // The key's comment is its name: delete that line for the user and for root.
      const pattern = keyPair.keyName.replace(/[^A-Za-z0-9._-]/g, ".");
      for (const sudo of ["", "sudo "]) {
        const target = sudo ? "/root/.ssh/authorized_keys" : "~/.ssh/authorized_keys";
        const status = await runRemote(
          ctx,
          `${sudo}sed -i.bak '/${pattern}/d' ${target}; ${sudo}rm -f ${target}.bak`,
        );
        if (status !== 0) ctx.ui.error(`could not remove the temporary key from ${target}`);
      }
      return {};
    },
  };
}
