import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import type { Verdict, VerifyRequest } from "../../src/gen/tinyv/v1/verifier_pb.js";
import { serviceDefinition } from "../../src/server/descriptor.js";

/** The built CLI: the tests run the real binary users run (build first: `npm run build`). */
export const CLI = fileURLToPath(new URL("../../bin/tinyv.js", import.meta.url));

export interface Tinyv {
  proc: ChildProcess;
  grpcPort: number;
  httpPort: number;
  grpcAddress: string;
  httpUrl: string;
  stderr: () => string;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start `tinyv serve` on free ports and wait for its address lines. */
export async function startTinyv(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Tinyv> {
  const proc = spawn(process.execPath, [CLI, "serve", "--port", "0", "--http-port", "0", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stderr?.on("data", (d) => {
    err += d;
  });
  const ports = await new Promise<[number, number]>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL"); // never leave a server behind
      reject(new Error(`tinyv did not start within 30 s: ${err}`));
    }, 30_000);
    proc.stdout?.on("data", (d) => {
      out += d;
      const g = /^listening on .*:(\d+)$/m.exec(out);
      const h = /^http on .*:(\d+)$/m.exec(out);
      if (g && h) {
        clearTimeout(timer);
        resolve([Number(g[1]), Number(h[1])]);
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`tinyv exited with ${code}: ${err}`));
    });
  });
  const [grpcPort, httpPort] = ports;
  return {
    proc,
    grpcPort,
    httpPort,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    stderr: () => err,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(signal);
      const [code] = await once(proc, "exit");
      return code as number | null;
    },
  };
}

const VerifierClient = grpc.makeGenericClientConstructor(serviceDefinition(), "VerifierService");

/** A grpc-js client of tinyv.v1.VerifierService built from the generated descriptors. */
export function grpcClient(address: string): grpc.Client & Record<string, (...args: never[]) => unknown> {
  return new VerifierClient(address, grpc.credentials.createInsecure()) as never;
}

/** Promise form of a grpc-js unary call. */
export function unary<Res>(
  client: grpc.Client,
  method: string,
  req: unknown,
  metadata = new grpc.Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method];
    fn?.call(client, req, metadata, (err: grpc.ServiceError | null, res: Res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** The gRPC error a call fails with (fails the test if the call succeeds). */
export async function failure(call: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error("expected the call to fail");
}

export type VerdictStream = grpc.ClientDuplexStream<VerifyRequest, Verdict>;

/** Open a VerifyStream on a client from `grpcClient`. */
export function openStream(client: grpc.Client, options?: grpc.CallOptions): VerdictStream {
  const c = client as unknown as { VerifyStream: (md: grpc.Metadata, o?: grpc.CallOptions) => VerdictStream };
  return c.VerifyStream(new grpc.Metadata(), options);
}

/** Send `items` on one VerifyStream, half-close, and collect every verdict. */
export function streamAll(client: grpc.Client, items: VerifyRequest[]): Promise<Verdict[]> {
  return new Promise((resolve, reject) => {
    const call = openStream(client);
    const got: Verdict[] = [];
    call.on("data", (v: Verdict) => got.push(v));
    call.on("end", () => resolve(got));
    call.on("error", reject);
    for (const it of items) call.write(it);
    call.end();
  });
}
