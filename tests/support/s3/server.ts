/**
 * A path-style S3 endpoint on 127.0.0.1: CreateBucket, HeadBucket,
 * DeleteBucket, ListBuckets, PutObject, GetObject, HeadObject, DeleteObject,
 * DeleteObjects and ListObjectsV2, with S3's conditional requests and XML
 * error shapes, plus switchable faults (see README.md). Signatures are not
 * checked (any credentials are accepted); `aws-chunked` bodies from the AWS
 * SDK are decoded.
 */
import { ADMIN_PREFIX, handleAdmin } from "./admin.ts";
import { errorResponse, S3Error, s3Errors } from "./errors.ts";
import { S3FaultInjector, type S3FaultOptions } from "./faults.ts";
import { FrontDoor } from "./front_door.ts";
import { ConditionalWritesInFlight } from "./in_flight.ts";
import { classify, type OperationContext, perform } from "./operations.ts";
import { S3Store } from "./store.ts";

/** Options of the S3 emulator. */
export interface S3EmulatorOptions {
  /** Buckets that exist from the start. */
  buckets?: string[];
  /** The port to listen on (default: a free one). */
  port?: number;
  /** Fault switches in force from the start. */
  faults?: S3FaultOptions;
}

/** A running S3 emulator. */
export interface S3Emulator {
  /** `http://127.0.0.1:PORT` — use with `forcePathStyle: true`. */
  endpoint: string;
  port: number;
  store: S3Store;
  /** Count of requests by operation name (faulted ones included). */
  calls: Map<string, number>;
  /** The live fault switches (`faults.configure({...})`) and what they injected. */
  faults: S3FaultInjector;
  /** Refuses connections (open ones are cut) until `goOnline()`, or for `ms` milliseconds. */
  goOffline(ms?: number): Promise<void>;
  /** Accepts connections again, on the same port. */
  goOnline(): void;
  /** True while connections are refused. */
  readonly offline: boolean;
  /** Answers an admin request (`/_emulator/...`), e.g. from a second listener. */
  admin(request: Request): Promise<Response>;
  close(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts an S3 emulator on 127.0.0.1; `close()` it in a `finally`. */
export function startS3Emulator(options: S3EmulatorOptions = {}): Promise<S3Emulator> {
  const store = new S3Store();
  for (const bucket of options.buckets ?? []) store.createBucket(bucket);
  const calls = new Map<string, number>();
  const faults = new S3FaultInjector(options.faults ?? {});
  const context: OperationContext = {
    store,
    inFlight: new ConditionalWritesInFlight(),
    putCommitDelayMs: () => faults.options.putCommitDelayMs ?? 0,
  };
  let comeBack: ReturnType<typeof setTimeout> | undefined;

  const goOnline = () => {
    clearTimeout(comeBack);
    comeBack = undefined;
    door.reopen();
  };
  const goOffline = async (ms?: number, spare?: number) => {
    clearTimeout(comeBack);
    await door.shut(spare);
    if (ms !== undefined) comeBack = setTimeout(goOnline, ms);
  };
  const target = { faults, calls, goOffline, goOnline };

  const handle = async (request: Request, connection: number): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname.startsWith(ADMIN_PREFIX)) {
      return await handleAdmin(target, request, connection);
    }
    let op;
    try {
      op = classify(request, url);
    } catch (err) {
      await request.body?.cancel();
      if (err instanceof S3Error) return errorResponse(err, request.method);
      throw err;
    }
    calls.set(op.name, (calls.get(op.name) ?? 0) + 1);
    try {
      const delay = faults.delayFor(op.name);
      if (delay > 0) await sleep(delay);
      const injected = faults.beforeCall(op.name, op.key);
      if (injected) throw injected;
      const response = await perform(context, op, request, url);
      const lost = faults.afterCall(op.name, op.key);
      if (lost) {
        // The change stays; only the answer is lost. After a drop this answer goes nowhere.
        if (lost === "drop") door.drop(connection);
        await response.body?.cancel();
        return errorResponse(s3Errors.internalError(), request.method);
      }
      return response;
    } catch (err) {
      if (!request.bodyUsed) await request.body?.cancel();
      if (err instanceof S3Error) return errorResponse(err, request.method);
      throw err;
    }
  };

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request, info) => handle(request, info.remoteAddr.port),
  );
  // Declared after the handlers that use it: none of them runs before a request comes through it.
  const door = FrontDoor.open(server.addr.port, options.port ?? 0);
  const port = door.port;
  return Promise.resolve({
    endpoint: `http://127.0.0.1:${port}`,
    port,
    store,
    calls,
    faults,
    goOffline,
    goOnline,
    get offline() {
      return !door.open;
    },
    admin: (request) => handleAdmin(target, request),
    close: async () => {
      clearTimeout(comeBack);
      await door.shut();
      await server.shutdown();
    },
  });
}
