"""Serving benchmark (chapter 26): the shipped tutor-chat behind `nand2llm serve`'s app on
loopback, 1/4/8/16 concurrent streaming clients (greedy, up to 64 tokens each, best of
three rounds): aggregate tokens/s and p50/p95 time to first token, beside the engine's own
batched generate of the same prompts (the ceiling), and the ratio at 8 clients (target
>= 0.8). Run: `make bench-serve` or `.venv/bin/python bench/serve.py`."""
import argparse

from nand2llm.instruct import load_tutor
from nand2llm.serve import serving_benchmark

QUESTIONS = ["What is a tensor?", "What does the KV cache store?",
             "How does top-p sampling work?", "What is a loss function?",
             "Why do we clip gradients?", "What is attention?",
             "What is a tokenizer?", "What does softmax do?"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="1,4,8,16")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    clients = tuple(int(c) for c in args.clients.split(","))
    model, tokenizer, template = load_tutor()
    table = serving_benchmark(model, tokenizer, template, QUESTIONS, clients,
                              args.max_tokens, args.rounds)
    print("| clients | rows/step | server tok/s | TTFT p50 (s) | TTFT p95 (s) | engine tok/s | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in table:
        print(f"| {r['clients']} | {r['rows_per_step']:.1f} | {r['tokens_per_s']:.0f} | "
              f"{r['ttft_p50']:.3f} | "
              f"{r['ttft_p95']:.3f} | {r['engine_tokens_per_s']:.0f} | {r['ratio']:.2f} |")
    at8 = [r for r in table if r["clients"] == 8]
    if at8:
        verdict = "meets" if at8[0]["ratio"] >= 0.8 else "misses"
        print(f"ratio at 8 clients: {at8[0]['ratio']:.2f} ({verdict} the 0.8 target)")


if __name__ == "__main__":
    main()
