"""How long free-text redaction takes (issue 11: under 50 ms for a 5,000-character description)
and how long text.preload() (the dictionary, readings and tables) takes, once per process.

    .venv/bin/python bench/redaction.py [--runs 20]

Three descriptions: "dense" is the corpus of tests/data/redaction_corpus.toml run together (one
identifier every 25 characters or so: a worst case); "mixed" is ordinary complaint prose
(tests/data/complaint-guidance.zh.txt) with a corpus case after each paragraph (one identifier
every 100 characters or so); "typical" has a case after every fourth paragraph (one every 300).
Each run redacts a new text (its parts in another order) with the caches of earlier runs
cleared, as for a new complaint. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from formserver.privacy import contacts, segmenter  # noqa: E402
from formserver.privacy.text import preload, redact_text  # noqa: E402

CORPUS = tomllib.loads((ROOT / "tests" / "data" / "redaction_corpus.toml").read_text("utf-8"))
OWN = {kind: CORPUS["own"]["hk"][kind] for kind in ("name", "unit", "phone", "email")}


PROSE = (ROOT / "tests" / "data" / "complaint-guidance.zh.txt").read_text("utf-8").splitlines()


def description(seed: int, length: int = 5000, kind: str = "dense") -> str:
    """dense: corpus cases only; mixed: a case after each paragraph of prose; typical: a case
    after every fourth paragraph."""
    texts = [case["text"] for case in CORPUS["case"]]
    generator = random.Random(seed)
    generator.shuffle(texts)
    if kind != "dense":
        every = 1 if kind == "mixed" else 4
        paragraphs = [line for line in PROSE if line.strip()] * 2
        mixed = []
        for index, paragraph in enumerate(paragraphs):
            mixed.append(paragraph)
            if index % every == every - 1:
                mixed.append(texts[index % len(texts)])
        texts = mixed
    return "\n".join(texts)[:length]


def measure(text: str) -> tuple[float, float]:
    segmenter.words.cache_clear()
    contacts.valid_phone.cache_clear()
    wall, cpu = time.perf_counter(), time.process_time()
    redact_text(text, region="HK", own=OWN, keep=("2345 6789", "2345 6790"))
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    preload()  # as a gunicorn worker does when it starts
    load = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first_wall, first_cpu = measure(description(0))  # the resident's own patterns compiled
    rows = []
    for kind in ("typical", "mixed", "dense"):
        for length in (500, 2000, 5000):
            runs = [measure(description(seed, length, kind)) for seed in range(1, args.runs + 1)]
            walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
            rows.append((kind, length, statistics.median(walls), max(walls),
                         statistics.median(cpus)))
    print(f"text.preload() (dictionary, readings, tables): {load:.2f} s; process peak RSS "
          f"after loading: {rss:.0f} MiB; first redaction after loading: {first_wall:.0f} ms "
          f"wall, {first_cpu:.0f} ms CPU\n")
    print("| description | characters | median ms (wall) | max ms (wall) | median ms (CPU) |")
    print("| --- | --- | --- | --- | --- |")
    for kind, length, median, most, cpu in rows:
        print(f"| {kind} | {length:,} | {median:.1f} | {most:.1f} | {cpu:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
