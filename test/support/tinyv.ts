import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
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
    const timer = setTimeout(() => reject(new Error(`tinyv did not start: ${err}`)), 30_000);
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
