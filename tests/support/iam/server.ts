/**
 * The IAM Query API, served on the EC2 emulator's port: the SDK reaches it
 * through the standard `AWS_ENDPOINT_URL_IAM` setting, and the request's
 * SigV4 credential scope (service `iam`) tells it apart from EC2 and STS.
 * Calls are counted, logged and subject to the same fault switches as EC2's.
 */
import type { Ec2Emulator } from "../ec2/emulator.ts";
import { Ec2Error } from "../ec2/errors.ts";
import type { QueryParams } from "../ec2/query.ts";
import { IAM_ACTIONS } from "./actions.ts";
import { renderIamError, renderIamResponse } from "./xml.ts";

const HEADERS = { "content-type": "text/xml;charset=UTF-8" };

/** Answers one IAM request whose form parameters are `params`. */
export function handleIam(
  emu: Ec2Emulator,
  params: QueryParams,
  requestId: string,
  region: string,
): Response {
  const action = params.get("Action") ?? "";
  const headers = { ...HEADERS, "x-amzn-requestid": requestId };
  const record = (status: number, error?: string) =>
    emu.record({ action, region, params: Object.fromEntries(params.entries()), status, error });
  try {
    emu.calls.set(action, (emu.calls.get(action) ?? 0) + 1);
    const handler = IAM_ACTIONS[action];
    if (!handler) {
      throw new Ec2Error(
        "InvalidAction",
        `Could not find operation ${action} for version 2010-05-08`,
      );
    }
    emu.faults.beforeCall(action);
    const result = handler(emu.iam, params, {
      created: (key) => emu.created(key),
      visible: (key) => emu.visible(key),
    });
    emu.faults.afterCall(action);
    record(200);
    return new Response(renderIamResponse(action, requestId, result), { headers });
  } catch (err) {
    if (!(err instanceof Ec2Error)) throw err;
    record(err.status, err.code);
    return new Response(renderIamError(err.code, err.message, requestId), {
      status: err.status,
      headers,
    });
  }
}
