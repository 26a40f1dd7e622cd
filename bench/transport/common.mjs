// Shared by echo.mjs and tinyv.mjs: ghz as a second client, and table formatting.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** ghz from --ghz, else PATH, else ~/go/bin (where `go install` puts it); undefined when absent. */
export function ghzPath(explicit) {
  if (explicit) return explicit;
  for (const dir of [...(process.env.PATH ?? "").split(":"), join(homedir(), "go", "bin")]) {
    if (dir && existsSync(join(dir, "ghz"))) return join(dir, "ghz");
  }
  return undefined;
}

/**
 * One ghz run of unary Verify, 64 concurrent, `n` calls (Go, multi-threaded: the server's capacity
 * without grpc-js's client cost). Without `protoset` ghz reads the contract by server reflection; ghz's
 * .proto parser rejects proto3 `optional`, so servers without reflection need a protoset.
 */
export function ghz(bin, address, n, protoset) {
  const data = JSON.stringify({ id: "x", ground_truth: "\\frac12", response: "the answer is \\boxed{0.5}" });
  const out = execFileSync(
    bin,
    [
      "--insecure",
      ...(protoset ? ["--protoset", protoset] : []),
      "--call",
      "tinyv.v1.VerifierService.Verify",
      "-d",
      data,
      "-c",
      "64",
      "-n",
      String(n),
      "-O",
      "json",
      address,
    ],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
  const report = JSON.parse(out);
  return { perSec: report.rps, ok: report.statusCodeDistribution?.OK ?? 0, n };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const fmt = (x) => Math.round(x).toLocaleString("en-US");
