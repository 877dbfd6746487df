/**
 * The HTTP side of the EC2 emulator: EC2 Query API requests (POST
 * form-encoded `Action=...&Version=2016-11-15`, SigV4-signed by the SDK;
 * the region comes from the credential scope), STS GetCallerIdentity, and
 * the `/_kiln/*` JSON debug endpoints.
 */
import { ACTIONS } from "./actions/mod.ts";
import type { Ec2Emulator, RequestContext } from "./emulator.ts";
import { Ec2Error } from "./errors.ts";
import { hostFor, instanceViews, ledgerOf } from "./ledger.ts";
import { QueryParams } from "./query.ts";
import { getCallerIdentityResponse, stsErrorResponse } from "./sts.ts";
import { handleIam } from "../iam/server.ts";
import { renderEc2Error, renderEc2Response } from "./xml.ts";

const XML_HEADERS = { "content-type": "text/xml;charset=UTF-8" };

/** Region, service and access key id from a SigV4 `Authorization` header. */
function credentialScope(
  request: Request,
): { region: string; service: string; accessKeyId: string } {
  const auth = request.headers.get("authorization") ?? "";
  const m = auth.match(/Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/);
  return m
    ? { accessKeyId: m[1], region: m[2], service: m[3] }
    : { accessKeyId: "", region: "us-east-1", service: "ec2" };
}

function json(value: unknown): Response {
  return new Response(JSON.stringify(value, null, 2), {
    headers: { "content-type": "application/json" },
  });
}

async function readParams(request: Request): Promise<QueryParams> {
  const url = new URL(request.url);
  const body = request.method === "POST" ? await request.text() : "";
  return QueryParams.parse(body || url.search.slice(1));
}

/** Answers one HTTP request. */
export async function handle(emu: Ec2Emulator, request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (request.method === "GET" && url.pathname === "/_kiln/state") {
    return json(ledgerOf(emu, emu.s3));
  }
  if (request.method === "GET" && url.pathname === "/_kiln/instances") {
    return json(instanceViews(emu));
  }
  if (request.method === "GET" && url.pathname === "/_kiln/requests") {
    return json(emu.requests);
  }
  if (request.method === "GET" && url.pathname === "/_kiln/host") {
    return json(hostFor(emu, url.searchParams.get("address") ?? "") ?? null);
  }
  const requestId = crypto.randomUUID();
  const headers = { ...XML_HEADERS, "x-amzn-requestid": requestId };
  const params = await readParams(request);
  const action = params.get("Action");
  const scope = credentialScope(request);
  if (scope.service === "iam") return handleIam(emu, params, requestId, scope.region);
  if (action === "GetCallerIdentity") {
    emu.calls.set(action, (emu.calls.get(action) ?? 0) + 1);
    const status = emu.regions.includes(scope.region) ? 200 : 403;
    emu.record({
      action,
      region: scope.region,
      params: Object.fromEntries(params.entries()),
      status,
    });
    if (status !== 200) {
      return new Response(stsErrorResponse("InvalidClientTokenId", "unknown region", requestId), {
        status: 403,
        headers,
      });
    }
    return new Response(getCallerIdentityResponse(emu.accountId, scope.accessKeyId, requestId), {
      headers,
    });
  }
  const record = (status: number, error?: string) =>
    emu.record({
      action: action ?? "",
      region: scope.region,
      params: Object.fromEntries(params.entries()),
      status,
      error,
    });
  try {
    if (!action) {
      throw new Ec2Error("MissingAction", "The request must contain the parameter Action");
    }
    emu.calls.set(action, (emu.calls.get(action) ?? 0) + 1);
    const handler = ACTIONS[action];
    if (!handler) {
      throw new Ec2Error(
        "InvalidAction",
        `The action ${action} is not valid for this web service.`,
      );
    }
    if (!params.get("Version")) {
      throw new Ec2Error("MissingParameter", "The request must contain the parameter Version");
    }
    emu.faults.beforeCall(action);
    emu.checkRegion(scope.region);
    const ctx: RequestContext = { region: scope.region, requestId, accountId: emu.accountId };
    const members = await handler(emu, params, ctx);
    emu.faults.afterCall(action);
    record(200);
    return new Response(renderEc2Response(action, requestId, members), { headers });
  } catch (err) {
    if (err instanceof Ec2Error) {
      record(err.status, err.code);
      return new Response(renderEc2Error(err.code, err.message, requestId), {
        status: err.status,
        headers,
      });
    }
    console.error(`ec2 emulator: ${action} failed:`, err);
    record(500, "InternalError");
    return new Response(
      renderEc2Error("InternalError", "An internal error has occurred", requestId),
      { status: 500, headers },
    );
  }
}
