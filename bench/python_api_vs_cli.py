#!/usr/bin/env python3
"""What the Python module costs over the CLI, measured in one run (issue 19's criterion: at most
5% on a 2500-step flow training run and on sampling 10^5 configurations).

Both sides call the same library functions (include/physgen/api/), so the difference is what the
binding adds: argument conversion, the per-step Ctrl-C check (the GIL is taken once per step),
the Ensemble wrapper. The CLI is timed as a user runs it, a process from start to exit (that
includes loading LibTorch, ~1 s); the Python call is timed inside one interpreter that has
already imported physgen. Reported for each task: the wall-clock ratio python / CLI and, for
training, the ratio of the trainer's own "seconds" (the training loop alone) of the two runs.

The runs alternate (CLI, Python, Python, CLI for --repeats 2, ...) so a drift of the machine's
speed affects both; the medians are compared. Same thread count on both sides (--threads).

    PYTHONPATH=build/python /usr/bin/python3 bench/python_api_vs_cli.py [--steps 2500] \
        [--samples 100000] [--repeats 2] [--threads 2] [--cli build/physgen] [--json out.json]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import physgen


def run_cli(cli, args):
    t0 = time.perf_counter()
    r = subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"physgen {' '.join(map(str, args))} failed:\n{r.stderr}")
    return wall, (json.loads(r.stdout) if "--json" in args else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--samples", type=int, default=100000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--cli", default=os.environ.get("PHYSGEN_CLI", "build/physgen"))
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    physgen.set_threads(a.threads)
    tmp = tempfile.mkdtemp(prefix="physgen-bench-")
    target = dict(L=8, m2=-4.0, lam=8.0)

    res = {"train": {"cli_wall": [], "py_wall": [], "cli_loop": [], "py_loop": []},
           "sample": {"cli_wall": [], "py_wall": []}}
    order = []
    for r in range(a.repeats):
        order += ["cli", "py"] if r % 2 == 0 else ["py", "cli"]

    model_path = None
    for who in order:
        out = os.path.join(tmp, f"{who}.pt")
        if who == "cli":
            wall, rep = run_cli(a.cli, ["train", "flow", "--target", "phi4", "--L", 8, "--m2", -4, "--lambda", 8,
                                        "--steps", a.steps, "--seed", 1, "--out", out, "--threads", a.threads,
                                        "--json"])
            res["train"]["cli_wall"].append(wall)
            res["train"]["cli_loop"].append(rep["seconds"])
        else:
            t0 = time.perf_counter()
            m = physgen.train("flow", target=physgen.Phi4(**target), steps=a.steps, seed=1, out=out,
                              progress=False)
            res["train"]["py_wall"].append(time.perf_counter() - t0)
            res["train"]["py_loop"].append(m.report["seconds"])
        model_path = out
        print(f"train {who}: {res['train'][who + '_wall'][-1]:.1f} s", flush=True)

    model = physgen.load_model(model_path)
    for who in order:
        npy = os.path.join(tmp, f"s_{who}.npy")
        if who == "cli":
            wall, _ = run_cli(a.cli, ["sample", "--model", model_path, "--n", a.samples, "--seed", 2, "--out", npy,
                                      "--threads", a.threads])
            res["sample"]["cli_wall"].append(wall)
        else:
            t0 = time.perf_counter()
            model.sample(a.samples, seed=2).save(npy)  # the CLI writes its file too
            res["sample"]["py_wall"].append(time.perf_counter() - t0)
        print(f"sample {who}: {res['sample'][who + '_wall'][-1]:.2f} s", flush=True)

    med = {t: {k: statistics.median(v) for k, v in d.items()} for t, d in res.items()}
    summary = {
        "steps": a.steps, "samples": a.samples, "repeats": a.repeats, "threads": a.threads,
        "train_wall_ratio_python_over_cli": med["train"]["py_wall"] / med["train"]["cli_wall"],
        "train_loop_ratio_python_over_cli": med["train"]["py_loop"] / med["train"]["cli_loop"],
        "sample_wall_ratio_python_over_cli": med["sample"]["py_wall"] / med["sample"]["cli_wall"],
        "medians_seconds": med, "runs_seconds": res,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "runs_seconds"}, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
