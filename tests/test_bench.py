"""The benchmark speaks the reference's language: compare.py can pair every figure it needs.

A smoke run at the `tiny` size with a couple of steps: no timing is asserted (speed targets live in
`make bench`), only that both scripts run and that the project's figures carry the keys the PyTorch
reference prints, with positive values.
"""
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import compare  # noqa: E402  (bench/compare.py)

QUICK = "--config tiny --threads 1 --steps 2 --warmup 1 --gen-new 6 --gen-prompt 4 --gen-repeats 1 --peak-gflops 100"
PY = sys.executable


def test_project_figures_pair_with_the_reference():
    anchor = compare.figures(f"{PY} {ROOT / 'bench' / 'torch_tinygpt.py'} {QUICK} --attn explicit")
    project = compare.figures(f"{PY} {ROOT / 'bench' / 'nand2llm_tinygpt.py'} {QUICK} --skip-mem-trace")
    wanted = {f"torch.t1.tiny.explicit.{w}" for w in ("train", "gen_b1_nocache", "gen_b1_kv", "gen_b8_kv")}
    assert wanted <= set(anchor), sorted(anchor)
    missing = wanted - set(project)
    assert not missing, f"the project benchmark does not print {sorted(missing)}"
    for key in wanted:
        assert project[key][0] > 0 and project[key][1] == anchor[key][1], (key, project[key], anchor[key])
    assert project["mem.tiny.train_peak_mb"][0] > 0


def test_peak_memory_reports_both_libraries(capsys):
    import peak_memory
    peak_memory.main(["--config", "tiny"])
    out = capsys.readouterr()
    for who in ("torch", "nand2llm"):
        assert f'"mem.{who}.tiny.train_peak_mb"' in out.out
        assert f"| tiny | {who} |" in out.err
