"""What every benchmark here shares: running a command and measuring it, machine facts, tables."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers import free_port, wait_for_port  # noqa: E402, F401  (the benchmarks' too)

PYTHON = sys.executable
GNU_TIME = "/usr/bin/time"


@dataclass
class Run:
    wall: float  # seconds, from fork to reaping
    cpu: float  # user + system seconds of the process and every descendant it reaped
    max_rss: int  # KiB: the largest single process of the tree (ru_maxrss, via GNU time)
    tree_pss: int = 0  # KiB: peak of the summed PSS of the whole process tree (sampled)
    tree_rss: int = 0  # KiB: peak of the summed RSS of the whole process tree (sampled)


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(x) for x in f.read().split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def descendants(pid: int) -> list[int]:
    """pid and every process below it."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children(p))
    return out


def memory_of(pid: int) -> tuple[int, int]:
    """(PSS, RSS) in KiB, from /proc/PID/smaps_rollup; (0, 0) if it has gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return pss, rss


class TreeSampler(threading.Thread):
    """Sums PSS and RSS over a process tree every `interval` seconds and keeps the peaks.
    PSS divides pages shared between processes (a forked pool shares the parent's), so the
    summed PSS is the tree's honest footprint; the summed RSS counts shared pages once per
    process and overstates it. A peak shorter than the interval can be missed."""

    def __init__(self, pid: int, interval: float = 0.01):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_pss = self.peak_rss = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            pss = rss = 0
            for p in descendants(self.pid):
                a, b = memory_of(p)
                pss, rss = pss + a, rss + b
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            self.stop.wait(self.interval)


def run_measured(argv: list[str], *, cwd: Path | None = None, env: dict | None = None,
                 sample: bool = False, timeout: float = 900) -> Run:
    """Run a command to completion; raise on a non-zero exit (with its output).

    The command runs under GNU time (/usr/bin/time, about 1 ms): a child forked from this
    process inherits this process's peak RSS in its own ru_maxrss (Linux records the old
    memory's high-water mark at exec), so wait4 here would report at least the benchmark's
    own size. GNU time is small, so the maximum it reports is the command's own."""
    fd, time_file = tempfile.mkstemp(prefix="bench-time-")
    os.close(fd)
    argv = [GNU_TIME, "-f", "%M", "-o", time_file, *argv]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    sampler = None
    if sample:
        sampler = TreeSampler(proc.pid)
        sampler.start()
    output = []
    reader = threading.Thread(target=lambda: output.append(proc.stdout.read()), daemon=True)
    reader.start()
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.002)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(5)
    if sampler:
        sampler.stop.set()
        sampler.join()
    if proc.returncode != 0:
        os.unlink(time_file)
        text = (output[0] if output else b"").decode("utf-8", "replace")[-3000:]
        raise RuntimeError(f"{argv[:3]}... exited with {proc.returncode}:\n{text}")
    with open(time_file) as f:
        max_rss = int(f.read().split()[-1])
    os.unlink(time_file)
    run = Run(wall, usage.ru_utime + usage.ru_stime, max_rss)
    if sampler:
        run.tree_pss, run.tree_rss = sampler.peak_pss, sampler.peak_rss
    return run


def median(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def percentile(values, q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a list of numbers."""
    values = sorted(values)
    if not values:
        return float("nan")
    rank = max(1, min(len(values), round(q / 100 * len(values) + 0.5)))
    return values[rank - 1]


def mib(kib: float) -> float:
    return kib / 1024


def machine() -> dict:
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "kernel": platform.release(), "memory": f"{mem} MiB", "load": load}


def print_machine() -> None:
    info = machine()
    print(f"machine: {info['nproc']} cores, {info['cpu']}, {info['memory']}, "
          f"Linux {info['kernel']}, Python {info['python']}, load average {info['load']}")


def table(headers: list[str], rows: list[list], title: str = "") -> str:
    """A Markdown table (pastes straight into docs/benchmarks.md)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    lines = []
    if title:
        lines += [f"### {title}", ""]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    lines.append("| " + " | ".join("-" * w for w in widths) + " |")
    for row in cells:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                     + " |")
    text = "\n".join(lines) + "\n"
    print(text, flush=True)
    return text
