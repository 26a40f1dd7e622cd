"""A minimal OpenAI-compatible judge on FastAPI + uvicorn, vLLM's own HTTP stack.

Says "True" (with logprobs) when the prompt holds "one half", else "False", after 20 ms.
Run by bench/interop/run.sh; not a model, only the transport vLLM speaks.
"""

import asyncio
import time

from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/v1/models")
async def models():
    model = {"id": "zhangchenxu/TinyV-1.5B", "object": "model", "root": "zhangchenxu/TinyV-1.5B"}
    return {"object": "list", "data": [model]}


@app.post("/v1/chat/completions")
async def chat(request: Request):
    body = await request.json()
    answer = "True" if "one half" in body["messages"][-1]["content"] else "False"
    other = "False" if answer == "True" else "True"
    await asyncio.sleep(0.02)
    top = [{"token": answer, "logprob": -0.01}, {"token": other, "logprob": -4.6}]
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": answer},
        "finish_reason": "stop",
        "logprobs": {"content": [{"token": answer, "logprob": -0.01, "top_logprobs": top}]},
    }
    return {"id": "cmpl", "object": "chat.completion", "created": int(time.time()), "model": body["model"], "choices": [choice]}
