#!/usr/bin/env python3
"""Peak memory of a training run: NAND2LLM beside the PyTorch reference.

Each measurement is its own child process, and its peak resident set size is
read from the kernel's accounting for that child (os.wait4's ru_maxrss), so the
two never share an allocator or a page of memory:

  torch    : bench/torch_tinygpt.py --config C --attn explicit --skip-gen
  nand2llm : bench/nand2llm_tinygpt.py --config C --skip-gen --skip-mem-trace
  and, to separate the libraries from the training, each one's import alone
  (python -c "import torch" / "import numpy, nand2llm.gpt").

Both training children run --steps 10 --warmup 3 at --threads (default 1),
the workloads of the speed benchmark. ru_maxrss includes the interpreter and
the libraries, so "above import" (peak minus the import-only peak) is the
memory the training itself needed.

Output: JSON lines on stdout ({"kind": "figure", "key": "mem.<who>.<config>...",
"value": MB}), and a Markdown table on stderr.

Usage:
  python bench/peak_memory.py --config small
  python bench/peak_memory.py --config small,medium
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def peak_rss_mb(cmd, threads):
    "Run `cmd` as a child with `threads` BLAS/OpenMP threads; its peak RSS in MB."
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    err = child.stderr.read().decode(errors="replace")
    child.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"peak_memory: {' '.join(cmd)} failed:\n{err[-2000:]}")
    return usage.ru_maxrss / 1024.0     # Linux reports KiB


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="small", help="comma list of tiny, small, medium")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    py = sys.executable
    imports = {
        "torch": peak_rss_mb([py, "-c", "import torch"], args.threads),
        "nand2llm": peak_rss_mb([py, "-c", "import numpy, nand2llm.gpt, nand2llm.optim"], args.threads),
    }
    rows = []
    for config in [c for c in args.config.split(",") if c]:
        common = ["--config", config, "--threads", str(args.threads), "--skip-gen", "--steps", "10",
                  "--warmup", "3", "--peak-gflops", "1"]
        runs = {
            "torch": [py, os.path.join(HERE, "torch_tinygpt.py"), "--attn", "explicit"] + common,
            "nand2llm": [py, os.path.join(HERE, "nand2llm_tinygpt.py"), "--skip-mem-trace"] + common,
        }
        for who, cmd in runs.items():
            peak = peak_rss_mb(cmd, args.threads)
            above = peak - imports[who]
            for key, value in (("train_peak_mb", peak), ("import_peak_mb", imports[who]),
                               ("train_above_import_mb", above)):
                print(json.dumps({"bench": "peak_memory", "kind": "figure",
                                  "key": f"mem.{who}.{config}.{key}", "value": round(value, 1),
                                  "unit": "MB"}), flush=True)
            rows.append((config, who, peak, imports[who], above))
    print("| config | library | peak RSS, MB | import alone, MB | training above import, MB |",
          file=sys.stderr)
    print("|---|---|---:|---:|---:|", file=sys.stderr)
    for config, who, peak, imp, above in rows:
        print(f"| {config} | {who} | {peak:.0f} | {imp:.0f} | {above:.0f} |", file=sys.stderr)


if __name__ == "__main__":
    main()
