import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface StandInStats {
  calls: number;
  modelCalls: number;
  maxInFlight: number;
  clientAborts: number;
  holds?: { answer: string; holdMs?: number }[];
}

/** Start the vLLM stand-in in a child process; resolves once it listens. */
export async function spawnStandIn(latencyMs: number) {
  const main = fileURLToPath(new URL("./fake-vllm-main.ts", import.meta.url));
  const hooks = fileURLToPath(new URL("./ts.mjs", import.meta.url));
  const child = spawn(process.execPath, ["--import", hooks, main, String(latencyMs)], {
    // Its stdin is ours: when this process dies, however, the stand-in sees the pipe close and exits.
    stdio: ["pipe", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /fake vllm (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.on("exit", (code) => reject(new Error(`stand-in exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid,
    async stats(holds = false): Promise<StandInStats> {
      const res = await fetch(`${url.replace(/\/v1$/, "")}/fake/stats${holds ? "?holds=1" : ""}`);
      return (await res.json()) as StandInStats;
    },
    stop() {
      child.kill("SIGTERM");
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
