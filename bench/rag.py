"""Search speed: chapter 23's BM25 beside rank_bm25 on the same tokens (run by hand, not in tests).

    python bench/rag.py [--repeats 3]

Prints the index build time and queries per second of each, on the book's chunks with the golden
questions as queries, and checks that both give the same scores (rank_bm25 with Lucene's idf).
"""
import argparse
import math
import time

import numpy as np
from rank_bm25 import BM25Okapi

from nand2llm.rag import BM25, LSA, book_chunks, load_questions, tokenize


class LuceneBM25(BM25Okapi):
    "rank_bm25's scoring with Lucene's idf, so both libraries compute the same numbers."
    def _calc_idf(self, nd):
        for word, n in nd.items():
            self.idf[word] = math.log(1 + (self.corpus_size - n + 0.5) / (n + 0.5))


def best_of(repeats, fn):
    "The fastest of `repeats` runs of fn(), in seconds, and its result."
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    chunks = book_chunks()
    tokens = [tokenize(f"{c.title} {c.section} {c.text}") for c in chunks]
    queries = [tokenize(q["question"]) for q in load_questions()]
    print(f"{len(chunks)} chunks, {sum(map(len, tokens))} tokens, {len(queries)} queries")
    rows = []
    for name, build in [("nand2llm BM25", lambda: BM25(tokens)),
                        ("rank_bm25 (Lucene idf)", lambda: LuceneBM25(tokens, k1=1.2, b=0.75)),
                        ("nand2llm LSA (rank 128)", lambda: LSA(tokens))]:
        built, index = best_of(args.repeats, build)
        score = index.get_scores if hasattr(index, "get_scores") else index.scores
        elapsed, _ = best_of(args.repeats, lambda: [score(q) for q in queries])
        rows.append((name, built, len(queries) / elapsed))
    ours, theirs = BM25(tokens), LuceneBM25(tokens, k1=1.2, b=0.75)
    diff = max(float(np.abs(ours.scores(q) - theirs.get_scores(q)).max()) for q in queries)
    print(f"{'index':<26}{'build (s)':>10}{'queries/s':>12}")
    for name, built, qps in rows:
        print(f"{name:<26}{built:>10.3f}{qps:>12.0f}")
    print(f"largest score difference, ours vs rank_bm25: {diff:.1e}")


if __name__ == "__main__":
    main()
