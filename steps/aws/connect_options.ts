/**
 * How the common connect step finds an amazon build's instance, and the key
 * to reach it with — also used to reconnect when a resumed run continues
 * after provisioning (bundle and upload run commands on the instance) —
 * and the build data provisioners see (`{{build `SourceAMI`}}`, ...).
 */
import type { ConnectStepOptions } from "../common/connect.ts";
import type { StepContext } from "../../runtime/types.ts";
import { type KeyPairOutput, PRIVATE_KEY_SECRET } from "./key_pair.ts";
import type { NetworkInfo } from "./network_info.ts";
import type { InstanceOutput } from "./run_instance.ts";
import { instanceHost } from "./ssh_host.ts";
import { amiBuildData } from "./template_data.ts";

/** Connect options for amazon builders. */
export const awsConnectOptions: ConnectStepOptions = {
  target(ctx: StepContext) {
    const instance = ctx.state["aws.run_instance"] as InstanceOutput | undefined;
    if (!instance) return undefined;
    const network = ctx.state["aws.network"] as NetworkInfo | undefined;
    return { host: instanceHost(ctx.config, instance, network), id: instance.instanceId };
  },
  privateKey: (ctx: StepContext) => ctx.secrets.get(PRIVATE_KEY_SECRET),
  publicKey: (ctx: StepContext) =>
    (ctx.state["aws.key_pair"] as KeyPairOutput | undefined)?.publicKey,
  buildData: amiBuildData,
};
