// Whole-process wall time of commands, in turn (A B C ... A B C ...), so a drift of the machine's speed
// hits every command alike; prints each command's min/median/max and, per round, the ratio of the first
// command to each other one. Usage: node bench/cli/pairs.mjs ROUNDS 'name=command' ['name=command' ...]
import { spawnSync } from "node:child_process";

const [rounds, ...specs] = process.argv.slice(2);
const cmds = specs.map((s) => ({ name: s.slice(0, s.indexOf("=")), cmd: s.slice(s.indexOf("=") + 1) }));
const times = cmds.map(() => []);
const run = (cmd) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("sh", ["-c", cmd], { stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${cmd}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
};
for (const c of cmds) run(c.cmd); // warm-up: disk caches, bytecode of the first load
for (let i = 0; i < Number(rounds); i++) {
  for (const [j, c] of cmds.entries()) times[j].push(run(c.cmd));
}
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const row = (name, xs, unit) =>
  `${name.padEnd(28)} median ${med(xs).toFixed(3)}${unit}  min ${Math.min(...xs).toFixed(3)}${unit}  max ${Math.max(...xs).toFixed(3)}${unit}`;
for (const [j, c] of cmds.entries()) console.log(row(`${c.name} (s)`, times[j], ""));
for (let j = 1; j < cmds.length; j++) {
  const ratios = times[j].map((t, i) => t / times[0][i]);
  console.log(row(`${cmds[j].name} / ${cmds[0].name}`, ratios, "x"));
}
