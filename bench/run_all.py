"""Run every benchmark of issue 7, one after the other, and keep what they print.

    .venv/bin/python bench/run_all.py [--out bench-results.txt] [--quick]

--quick runs each with small sizes (a smoke test, minutes instead of a quarter of an hour).
A benchmark that fails makes this exit non-zero; the others still run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FULL = [
    ["site_build.py"],
    ["form_server.py"],
    ["delivery.py"],
    ["upload_memory.py"],
]
QUICK = [
    ["site_build.py", "--sizes", "100,1000", "--runs", "2"],
    ["form_server.py", "--rounds", "1", "--submissions", "100", "--photo-submissions", "24"],
    ["delivery.py", "--messages", "200", "--rounds", "1"],
    ["upload_memory.py", "--rounds", "1"],
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results.txt"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed = []
    with args.out.open("w") as log:
        for script, *options in QUICK if args.quick else FULL:
            header = f"\n===== {script} {' '.join(options)} =====\n"
            print(header, flush=True)
            log.write(header)
            proc = subprocess.Popen([sys.executable, str(HERE / script), *options],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for line in proc.stdout:
                print(line, end="", flush=True)
                log.write(line)
            if proc.wait() != 0:
                failed.append(script)
    print(f"\noutput kept in {args.out}")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
