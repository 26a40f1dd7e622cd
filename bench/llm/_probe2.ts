import OpenAI from "openai";
import { spawnStandIn } from "./standin.js";

const s = await spawnStandIn(0);
const N = 6000,
  C = 64;
const body = {
  model: "m",
  messages: [{ role: "user" as const, content: "x".repeat(900) }],
  temperature: 0,
  max_tokens: 8,
  logprobs: true,
  top_logprobs: 5,
};
const sdk = new OpenAI({ baseURL: s.url, apiKey: "x", maxRetries: 0 });
let next = 0;
await Promise.all(
  Array.from({ length: C }, async () => {
    while (next++ < N) await sdk.chat.completions.create(body);
  }),
);
s.stop();
