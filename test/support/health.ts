import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { type Tinyv, unary } from "./tinyv.js";

/** What gRPC health (service "") and /healthz say, as a probe would ask. */
export async function health(server: Tinyv): Promise<{ grpc: string; http: number }> {
  const Health = grpc.makeGenericClientConstructor(healthService, "Health");
  const client = new Health(server.grpcAddress, grpc.credentials.createInsecure());
  try {
    const res = await unary<{ status: string }>(client, "check", { service: "" });
    return { grpc: res.status, http: (await fetch(`${server.httpUrl}/healthz`)).status };
  } finally {
    client.close();
  }
}

/** Poll until gRPC health says SERVING (tinyv serve is NOT_SERVING until its LLM is ready). */
export async function untilServing(server: Tinyv, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while ((await health(server)).grpc !== "SERVING") {
    if (Date.now() > end) throw new Error(`tinyv not SERVING after ${ms} ms: ${server.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
