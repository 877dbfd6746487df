/** The S3-compatible endpoint tests use: bundle uploads, conditional writes, faults. */
export { type S3Emulator, type S3EmulatorOptions, startS3Emulator } from "./server.ts";
export { type S3Object, S3Store } from "./store.ts";
export {
  type S3CallMatch,
  type S3ErrorBurst,
  type S3FailCall,
  S3FaultInjector,
  type S3FaultOptions,
  type S3LostResponse,
} from "./faults.ts";
