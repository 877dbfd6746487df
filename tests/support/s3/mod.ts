/** The S3-compatible endpoint bundle uploads go to in tests. */
export { type S3Emulator, type S3EmulatorOptions, startS3Emulator } from "./server.ts";
export { type S3Object, S3Store } from "./store.ts";
