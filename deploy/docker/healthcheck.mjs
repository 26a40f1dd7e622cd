// The container's health check: grpc.health.v1.Health/Check on this container's gRPC port.
// Exit 0 when the server answers SERVING, 1 otherwise (not serving, draining, down, no answer in 2 s).
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

const port = process.env.TINYV_PORT || "50051";
const cert = process.env.TINYV_TLS_CERT;
const creds = cert
  ? // Trust the server's own certificate file; it names the public host, not 127.0.0.1.
    grpc.credentials.createSsl(readFileSync(cert), null, null, { checkServerIdentity: () => undefined })
  : grpc.credentials.createInsecure();
const Health = grpc.makeGenericClientConstructor(healthService, "Health");
const client = new Health(`127.0.0.1:${port}`, creds);
client.check({ service: "" }, { deadline: Date.now() + 2000 }, (err, res) => {
  const ok = !err && res?.status === "SERVING";
  if (!ok) console.error(err ? `health check: ${err.message}` : `health check: ${res?.status}`);
  client.close();
  process.exit(ok ? 0 : 1);
});
