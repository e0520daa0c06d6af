#!/usr/bin/env python3
"""NAND2LLM's own TinyGPT (NumPy float32), measured like the PyTorch reference.

The project-side twin of bench/torch_tinygpt.py: same configs, same workloads,
same figure keys, so bench/compare.py pairs the two and prints
project/anchor ratios.

Model: nand2llm.gpt.GPT(GPTConfig.preset(config)), dropout 0, float32,
batch sizes from nand2llm.gpt.PRESET_BATCH_SIZES (tiny 8, small 16, medium 8).

Measured per config:
  train : one step = forward + cross-entropy + backward + AdamW step
          (lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1 on every parameter, as
          the reference's single-group torch.optim.AdamW) + zero_grad; median
          wall time over --steps steps after --warmup steps, on fixed random
          token batches (batch, ctx). tokens/s = batch*ctx / median step time.
          Model FLOPs and MFU exactly as the reference (6*N*tokens + attention,
          against numpy_peak.py float32 n=1024 at the same thread count).
  mem   : peak resident memory (ru_maxrss) of the process right after the
          training run of the config, in MB. ru_maxrss never goes down, so with
          several configs in one process a later one reports at least the
          earlier peak (configs run in the order given; tiny,small,medium
          grows). Also the tracemalloc peak of the NumPy arrays allocated by
          one extra (untimed) training step: the array working set.
  gen   : greedy decoding (temperature 0) of --gen-new tokens after a random
          --gen-prompt-token prompt: batch 1 without cache (a loop that runs
          the model on the last <= ctx tokens every step), batch 1 and batch
          --gen-batch with chapter 18's engine and its KV cache
          (GPT.generate, context_policy='shift': a full cache is refilled
          from the last ctx//2 tokens, the same policy as the reference). tokens/s = batch * new
          tokens / wall time (prefill included); median of --gen-repeats runs
          or fewer when --gen-budget-s is used up.

Output: JSON lines on stdout; figures as generic records
  {"kind": "figure", "key": "torch.t1.small.explicit.train", "value": ..., "unit": "tok/s"}
with the reference's keys (the "torch." prefix and ".explicit" are part of the
shared key names, not a claim that torch runs here), plus
  numpy.float32.n1024.t<T>   GFLOP/s  (numpy_peak.py, run now in a subprocess)
  mem.<config>.train_peak_mb MB       (no torch counterpart in compare.py)
A short human summary goes to stderr.

Usage (beside the reference, at the same thread count):
  python bench/nand2llm_tinygpt.py --threads 1 --config small
  python bench/nand2llm_tinygpt.py --threads 1 --config tiny --skip-gen
  python bench/compare.py --rounds 2 \\
      --anchor  ".venv/bin/python bench/torch_tinygpt.py --threads 1 --config small --attn explicit" \\
      --project ".venv/bin/python bench/nand2llm_tinygpt.py --threads 1 --config small"
"""
import argparse
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)  # the nand2llm package of this checkout
from _common import emit, loadavg, machine_facts, summarize  # noqa: E402
from torch_tinygpt import measure_numpy_peak  # noqa: E402  (the same peak; torch is imported only in its main)

BENCH = "nand2llm_tinygpt"
CONFIG_NAMES = ("tiny", "small", "medium")


def figure(key, value, unit):
    """A generic record that compare.py pairs with the reference by key."""
    print(json.dumps({"bench": BENCH, "kind": "figure", "key": key, "value": value, "unit": unit}), flush=True)


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def maxrss_mb():
    """Peak resident set size of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_train(np, model, opt, cfg, batch, steps, warmup, seed):
    from nand2llm.tensor import Tensor
    V, T = cfg.vocab_size, cfg.context
    rng = np.random.default_rng(seed)
    data = rng.integers(0, V, size=(steps + warmup, batch, T + 1), dtype=np.int64)
    model.train()
    times, losses = [], []
    for i in range(steps + warmup):
        x, y = data[i, :, :-1], data[i, :, 1:]
        t0 = time.perf_counter()
        _, loss = model(x, Tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        losses.append(float(loss.item()))
        if i >= warmup:
            times.append(dt)
    return summarize(times), losses, data[0]


def traced_step_mb(model, opt, batch_tokens):
    """tracemalloc peak (MB) of one untimed training step: the NumPy arrays
    alive at once (activations, gradients, optimizer temporaries)."""
    import tracemalloc
    from nand2llm.tensor import Tensor
    x, y = batch_tokens[:, :-1], batch_tokens[:, 1:]
    tracemalloc.start()
    try:
        _, loss = model(x, Tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def greedy_window(np, no_grad, model, prompts, n_new):
    """Greedy decoding with no cache: the model runs on the last <= ctx tokens every step."""
    ids = np.array(prompts)
    with no_grad():
        for _ in range(n_new):
            logits = model(ids[:, -model.config.context:])[0].numpy()[:, -1]
            ids = np.concatenate([ids, logits.argmax(axis=1)[:, None]], axis=1)
    return ids[:, len(prompts[0]):].tolist()


def bench_gen(np, no_grad, model, cfg, batch, prompt_len, n_new, use_cache, repeats, budget_s, seed):
    rng = np.random.default_rng(seed + 2)
    prompts = rng.integers(0, cfg.vocab_size, size=(batch, prompt_len), dtype=np.int64).tolist()
    model.eval()

    def run(n):
        if use_cache:  # the engine (chapter 18); a full cache is refilled from the last ctx//2 tokens
            return [c.tokens for c in model.generate(prompts, n, temperature=0, context_policy="shift")]
        return greedy_window(np, no_grad, model, prompts, n)

    run(4)  # warm-up
    times, out = [], None
    t_all = time.perf_counter()
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = run(n_new)
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - t_all > budget_s:
            break
    assert len(out) == batch and all(len(tokens) == n_new for tokens in out)
    return summarize(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny,small,medium", help="comma list of: " + ",".join(CONFIG_NAMES))
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--gen-new", type=int, default=256)
    ap.add_argument("--gen-prompt", type=int, default=16)
    ap.add_argument("--gen-batch", type=int, default=8)
    ap.add_argument("--gen-repeats", type=int, default=3,
                    help="timed generations per mode (median); fewer if --gen-budget-s is used up")
    ap.add_argument("--gen-budget-s", type=float, default=4.0)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-gen", action="store_true")
    ap.add_argument("--skip-mem-trace", action="store_true", help="no tracemalloc step after training")
    ap.add_argument("--threads", type=int, default=2, help="BLAS threads (OPENBLAS_NUM_THREADS/OMP_NUM_THREADS)")
    ap.add_argument("--peak-gflops", type=float, default=None,
                    help="float32 matmul GFLOP/s for MFU; default: measure numpy_peak 1024 now")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--json", action="store_true",
                    help="accepted for symmetry: stdout is always JSON lines (summary on stderr)")
    args = ap.parse_args(argv)
    configs = [c for c in args.config.split(",") if c]
    for c in configs:
        if c not in CONFIG_NAMES:
            ap.error("unknown config %r; choose from %s" % (c, ",".join(CONFIG_NAMES)))

    # the thread count must be fixed before NumPy (and its OpenBLAS) is loaded
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    t_start = time.perf_counter()
    emit(BENCH, "machine", **machine_facts())
    if args.peak_gflops is None:
        peak = measure_numpy_peak(args.threads)  # same thread count via the environment and --threads
        peak_src = "numpy_peak.py --sizes 1024 --dtypes float32 --threads %d (run now)" % args.threads
    else:
        peak, peak_src = args.peak_gflops, "--peak-gflops"
    if peak is not None and args.peak_gflops is None:
        figure("numpy.float32.n1024.t%d" % args.threads, peak, "GFLOP/s")

    import numpy as np
    from nand2llm.gpt import GPT, GPTConfig, PRESET_BATCH_SIZES
    from nand2llm.optim import AdamW
    from nand2llm.tensor import no_grad
    import nand2llm.sampling  # noqa: F401  (chapter 18: GPT.generate is the engine's)

    emit(BENCH, "config", numpy=np.__version__, threads=args.threads, dtype="float32",
         peak_f32_gflops=peak, peak_source=peak_src, steps=args.steps, warmup=args.warmup,
         optimizer="nand2llm.optim.AdamW(lr=3e-4,betas=(0.9,0.95),wd=0.1) on all parameters",
         gen=dict(new=args.gen_new, prompt=args.gen_prompt, batch=args.gen_batch, greedy=True,
                  api="GPT.generate(temperature=0, context_policy='shift') (chapter 18 engine); no cache: window loop"),
         loadavg_start=loadavg())

    for name in configs:
        cfg = GPTConfig.preset(name, dropout=0.0)
        batch = PRESET_BATCH_SIZES[name]
        model = GPT(cfg, generator=np.random.default_rng(args.seed))
        assert model.wte.weight.data.dtype == np.float32, model.wte.weight.data.dtype
        n_params = sum(int(p.data.size) for p in model.parameters())
        base_key = "torch.t%d.%s.explicit" % (args.threads, name)
        base = dict(config=name, threads=args.threads, vocab=cfg.vocab_size, ctx=cfg.context,
                    d_model=cfg.d_model, n_layer=cfg.n_layer, n_head=cfg.n_head, batch=batch, params=n_params)
        if not args.skip_train:
            opt = AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
            st, losses, first_batch = bench_train(np, model, opt, cfg, batch, args.steps, args.warmup, args.seed)
            rss = maxrss_mb()
            traced = None if args.skip_mem_trace else traced_step_mb(model, opt, first_batch)
            tokens = batch * cfg.context
            attn_flops = 12 * cfg.n_layer * cfg.d_model * cfg.context * tokens
            flops = 6 * n_params * tokens + attn_flops
            gflops = flops / st["median_s"] / 1e9
            tok_s = round(tokens / st["median_s"], 1)
            emit(BENCH, "result", phase="train", **base, tokens_per_step=tokens,
                 step_ms_median=round(st["median_s"] * 1e3, 3),
                 step_ms_min=round(st["min_s"] * 1e3, 3), step_ms_max=round(st["max_s"] * 1e3, 3),
                 tokens_per_s=tok_s, model_gflops=round(gflops, 2),
                 mfu=round(gflops / peak, 4) if peak else None,
                 loss_first=round(losses[0], 4), loss_last=round(losses[-1], 4),
                 maxrss_mb=round(rss, 1), tracemalloc_step_peak_mb=None if traced is None else round(traced, 1),
                 loadavg=loadavg())
            figure(base_key + ".train", tok_s, "tok/s")
            figure(base_key + ".model_gflops", round(gflops, 2), "GFLOP/s")
            if peak:
                figure(base_key + ".mfu", round(gflops / peak, 4), "MFU")
            figure("mem.%s.train_peak_mb" % name, round(rss, 1), "MB")
            if traced is not None:
                figure("mem.%s.train_step_numpy_peak_mb" % name, round(traced, 1), "MB")
            say("%s train: %.0f tok/s (step %.1f ms), MFU %s, maxrss %.0f MB, numpy step peak %s MB, loss %.3f -> %.3f"
                % (name, tok_s, st["median_s"] * 1e3, "%.3f" % (gflops / peak) if peak else "-", rss,
                   "-" if traced is None else "%.0f" % traced, losses[0], losses[-1]))
        if not args.skip_gen:
            gen_tok_s = {}
            for label, gb, use_cache in (("gen_b1_nocache", 1, False), ("gen_b1_kv", 1, True),
                                         ("gen_b%d_kv" % args.gen_batch, args.gen_batch, True)):
                st = bench_gen(np, no_grad, model, cfg, gb, args.gen_prompt, args.gen_new, use_cache,
                               args.gen_repeats, args.gen_budget_s, args.seed)
                tok_s = round(gb * args.gen_new / st["median_s"], 1)
                gen_tok_s[label] = tok_s
                emit(BENCH, "result", phase=label, **base, gen_batch=gb, prompt=args.gen_prompt,
                     new_tokens=args.gen_new, kv_cache=use_cache,
                     time_s_median=round(st["median_s"], 4), runs=st["n"],
                     time_s_min=round(st["min_s"], 4), time_s_max=round(st["max_s"], 4),
                     tokens_per_s=tok_s, loadavg=loadavg())
                figure("%s.%s" % (base_key, label), tok_s, "tok/s")
            say("%s generate tok/s: %s; KV cache speed-up at batch 1: %.2fx"
                % (name, ", ".join("%s %.0f" % kv for kv in gen_tok_s.items()),
                   gen_tok_s["gen_b1_kv"] / gen_tok_s["gen_b1_nocache"]))
    emit(BENCH, "done", wall_s=round(time.perf_counter() - t_start, 2), loadavg_end=loadavg())


if __name__ == "__main__":
    main()
