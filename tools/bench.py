"""`make bench`: times warm `make synth` and warm `make test` against their budgets.

Each command runs once to warm up (bootstrap, caches), then `--runs` times; the median counts.
Results go to stdout and to .bench/results.json. Exits non-zero when a budget is exceeded.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGETS_SECONDS = {"synth": 20.0, "test": 120.0}


def timed(target: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["make", "--no-print-directory", target], cwd=ROOT, check=True, capture_output=True
    )
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="measured runs per command (default 2)")
    parser.add_argument("targets", nargs="*", default=list(BUDGETS_SECONDS), help="synth, test")
    args = parser.parse_args(argv)
    if args.runs < 1 or set(args.targets) - set(BUDGETS_SECONDS):
        parser.error(f"--runs must be >= 1 and targets among {', '.join(BUDGETS_SECONDS)}")

    results, over = {}, []
    for target in args.targets:
        timed(target)  # warm-up
        samples = [timed(target) for _ in range(args.runs)]
        median = statistics.median(samples)
        budget = BUDGETS_SECONDS[target]
        results[target] = {
            "median_s": round(median, 1),
            "samples_s": [round(s, 1) for s in samples],
            "budget_s": budget,
        }
        verdict = "ok" if median <= budget else "OVER BUDGET"
        print(f"warm make {target:<5}  median {median:6.1f} s  (budget {budget:.0f} s)  {verdict}")
        if median > budget:
            over.append(target)
    out = ROOT / ".bench" / "results.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
