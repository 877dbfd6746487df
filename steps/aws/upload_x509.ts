/** Uploads the X.509 certificate and key that ec2-bundle-vol signs the bundle with. */
import type { Step } from "../../runtime/types.ts";
import { instanceComm } from "./remote.ts";

/** Where the certificate and key landed on the instance. */
export interface X509Output {
  certPath: string;
  keyPath: string;
}

/** The "upload X.509 cert" step. */
export function uploadX509Step(): Step<X509Output> {
  return {
    id: "aws.upload_x509",
    async run(ctx) {
      const comm = await instanceComm(ctx);
      const dir = String(ctx.config.x509_upload_path || "/tmp");
      const certPath = `${dir}/cert.pem`;
      const keyPath = `${dir}/key.pem`;
      ctx.ui.say("Uploading X509 Certificate...");
      const cert = await Deno.readFile(String(ctx.config.x509_cert_path));
      const key = await Deno.readFile(String(ctx.config.x509_key_path));
      await comm.upload(certPath, cert, { mode: 0o600, size: cert.length });
      await comm.upload(keyPath, key, { mode: 0o600, size: key.length });
      return { certPath, keyPath };
    },
  };
}
