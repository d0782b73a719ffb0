"""The slowest redaction an attacker can ask for: 5,000-character descriptions made to keep the
rules busy (random runs of the pieces they look for, one short piece repeated, digit soup,
letter soup), with the resident's own details given. Prints the slowest few; a catastrophic
backtracking pattern would show here as seconds.

    .venv/bin/python bench/redaction_worst.py [--texts 25] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formserver.privacy.text import preload, redact_text  # noqa: E402

OWN = {"name": "陳大文", "unit": "第3座 12樓 B室", "phone": "9123 4567",
       "email": "chan.taiman@example.com"}
LENGTH = 5000
# What the rules look for: digits and separators, cue words, titles, units, addresses,
# handles, dates, chat lines.
PIECES = (
    "1", "12", "9", " ", "-", ".", "/", "(", ")", "+852", "a", "A", "Chan", "Tai", "Man", "Mr",
    "Flat", "B", "樓", "室", "座", "第", "號", "路", "街", "道", "陳", "李", "先生", "太", "阿",
    "@", "at", "dot", "com", "微信", "wx", ":", "：", "，", "。", "\n", "工單", "編號", "帳號",
    "出生", "1990年", "月", "日", "一", "二", "九", "十", "住", "喺", "嘅", "Block", "Rua",
    "n.º", "andar", "_", "www.", "http://", "facebook.com/", "ID", "HKID", "A123456(7)", "車牌",
    "AB 1234", "Room", "Unit", "of", "the", "Sir", "SIR", "Ahmed", "Maria", "叫", "做", "佢",
    "同", "話", "【", "】", "[", "]", "下午3:05", "13/4 08:02 - ", "   ", "\t",
)


def text_of(kind: str, generator: random.Random) -> str:
    if kind == "random":
        pieces = []
        while sum(map(len, pieces)) < LENGTH:
            pieces.append(generator.choice(PIECES))
        return "".join(pieces)[:LENGTH]
    if kind == "repeated":
        piece = "".join(generator.choice(PIECES) for _ in range(generator.randint(1, 4)))
        return (piece * (LENGTH // len(piece) + 1))[:LENGTH]
    alphabet = "0123456789 -./()" if kind == "digits" else "abcdefghij ABCDEFG.-,"
    return "".join(generator.choice(alphabet) for _ in range(LENGTH))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=25, help="of each kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    preload()
    generator = random.Random(args.seed)
    timed = []
    for kind in ("random", "repeated", "digits", "letters"):
        for _ in range(args.texts):
            text = text_of(kind, generator)
            started = time.perf_counter()
            redact_text(text, region="HK", own=OWN)
            timed.append(((time.perf_counter() - started) * 1000, kind, text[:60]))
    print("| ms | kind | text begins |")
    print("| --- | --- | --- |")
    for milliseconds, kind, start in sorted(timed, reverse=True)[:5]:
        print(f"| {milliseconds:.0f} | {kind} | {start!r} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
