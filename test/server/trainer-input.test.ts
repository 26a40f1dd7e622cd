import { describe, expect, it } from "vitest";
import {
  questionFromMessages,
  questionFromPrompt,
  questionOf,
  responseFromQuery,
  stripSpecialTokens,
} from "../../src/server/routes/chat-template.js";
import { goldFromLabel } from "../../src/server/routes/label.js";

// The pure input handling of the trainer routes: chat templates undone, labels of any JSON type.

const Q = "What is $\\frac{1}{2} + 1$?";

/** The generation prompts of common chat formats, with a system turn and an earlier exchange. */
const PROMPTS: Record<string, string> = {
  chatml: `<|im_start|>system\nReason step by step.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n${Q}<|im_end|>\n<|im_start|>assistant\n`,
  llama3: `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n${Q}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
  llama2: `<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n${Q} [/INST]`,
  gemma: `<bos><start_of_turn>user\n${Q}<end_of_turn>\n<start_of_turn>model\n`,
  deepseek: `<｜begin▁of▁sentence｜>Be brief.<｜User｜>${Q}<｜Assistant｜><think>\n`,
  phi3: `<|system|>\nBe brief.<|end|>\n<|user|>\n${Q}<|end|>\n<|assistant|>\n`,
};

describe("chat templates", () => {
  for (const [name, prompt] of Object.entries(PROMPTS)) {
    it(`recovers the last user turn of a ${name} prompt`, () => {
      expect(questionFromPrompt(prompt)).toBe(Q);
    });
    it(`cuts the response out of a ${name} query, with or without the prompt's start`, () => {
      const eos = ["<|im_end|>", "<|eot_id|>", "</s>", "<end_of_turn>", "<｜end▁of▁sentence｜>", "<|end|>"];
      for (const end of eos) {
        expect(responseFromQuery(`${prompt}So \\boxed{1.5}${end}`, prompt)).toBe("So \\boxed{1.5}");
        // Truncated on the left (a long prompt), the response still follows the last assistant opener.
        if (name !== "deepseek") {
          expect(responseFromQuery(`${prompt.slice(12)}So \\boxed{1.5}${end}`, prompt)).toBe(
            "So \\boxed{1.5}",
          );
        }
      }
    });
  }

  it("leaves a plain prompt as the question, and a query without any template as the response", () => {
    expect(questionFromPrompt(`  ${Q}\n`)).toBe(Q);
    expect(responseFromQuery("Answer: 3<|endoftext|>", "Question: 1+2?")).toBe("Answer: 3");
    expect(responseFromQuery("Question: 1+2? Answer: 3", "Question: 1+2?")).toBe("Answer: 3");
  });

  it("strips every special token, and keeps what only looks like one", () => {
    expect(stripSpecialTokens("<|im_start|>x<|im_end|><|endoftext|></s><pad><pad>")).toBe("x");
    expect(stripSpecialTokens("a < b and c > d, <x|y>")).toBe("a < b and c > d, <x|y>");
  });

  it("recovers the question from messages, with string or part-list content", () => {
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "first" },
      { role: "assistant", content: "ok" },
      { role: "user", content: [{ type: "image" }, { type: "text", text: Q }] },
    ];
    expect(questionFromMessages(messages)).toBe(Q);
    expect(questionOf(messages)).toBe(Q);
    expect(questionOf([{ role: "user", content: [{ type: "input_text", text: Q }] }])).toBe(Q);
    expect(questionOf([{ role: "assistant", content: "x" }, null, 3])).toBe("");
    expect(questionOf(undefined)).toBe("");
  });
});

describe("labels of any JSON type", () => {
  it("takes strings, numbers and booleans as the ground truth", () => {
    expect(goldFromLabel("\\frac12", "l")).toEqual({ gold: "\\frac12" });
    expect(goldFromLabel(3, "l")).toEqual({ gold: "3" });
    expect(goldFromLabel(-0.25, "l")).toEqual({ gold: "-0.25" });
    expect(goldFromLabel(true, "l")).toEqual({ gold: "true" });
  });

  it("reads a dict's answer and question", () => {
    expect(goldFromLabel({ answer: 12, question: "3*4?" }, "l")).toEqual({ gold: "12", question: "3*4?" });
    expect(goldFromLabel({ ground_truth: "x", answer: "y", problem: "p" }, "l")).toEqual({
      gold: "x",
      question: "p",
    });
    expect(goldFromLabel({ solution: "7" }, "l")).toEqual({ gold: "7" });
  });

  it("names the field and the reason when a label cannot be a ground truth", () => {
    const cases: [unknown, RegExp][] = [
      [null, /^labels\[2\] is null/],
      [undefined, /^labels\[2\] is missing/],
      ["", /empty string/],
      [" \n", /empty string/],
      [Number.NaN, /not a finite number/],
      [2 ** 60, /past 2\^53.*as a string/],
      [[1, 2], /is a list/],
      [{ foo: 1 }, /dict without any of ground_truth, answer/],
      [{ answer: null }, /^labels\[2\]\.answer is null/],
      [{ answer: { deep: 1 } }, /answer is not a string or number/],
    ];
    for (const [label, message] of cases) {
      const got = goldFromLabel(label, "labels[2]");
      expect("fault" in got && got.fault, String(label)).toMatch(message);
    }
  });
});
