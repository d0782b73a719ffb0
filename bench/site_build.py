"""Site build: build.py against MkDocs, Pelican, Hugo and a one-process floor (issue 7).

    .venv/bin/python bench/site_build.py                  # N = 100, 1000, 5000 on the disk
    .venv/bin/python bench/site_build.py --sizes 1000 --runs 5
    .venv/bin/python bench/site_build.py --tmpfs          # the same in /dev/shm (no disk)
    .venv/bin/python bench/site_build.py --peers-venv DIR # reuse a venv with mkdocs + pelican

A deterministic corpus of N Chinese pages (bench/corpus.py) is written in each tool's dialect
and built as a subprocess, every tool once per round, the order rotated each round. Each run
gets a fresh output folder, and no output is deleted until the end: deleting thousands of
files makes ext4 slow to create new ones for a minute or two (its recently-deleted inode
check), which would charge one tool for another's clean-up.

Memory: "max RSS" is ru_maxrss as GNU time reports it: the largest single process of
the tree (build.py's pool workers included, but not added up). "tree PSS" is the peak of the
summed proportional set size of the whole tree (main process + pool workers), sampled every
10 ms in one extra run per tool: PSS splits the pages a forked worker shares with its parent,
so the sum is what the build really occupies.

MkDocs and Pelican are installed into a throwaway virtual environment (pip install mkdocs
pelican markdown) in the temporary folder; Hugo is Debian's /usr/bin/hugo.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402
from common import PYTHON, ROOT, median, mib, print_machine, run_measured, table  # noqa: E402

HUGO = shutil.which("hugo") or "/usr/bin/hugo"


def install_peers(venv: Path) -> Path:
    if not (venv / "bin" / "mkdocs").exists():
        print(f"installing mkdocs, pelican, markdown into {venv} ...", flush=True)
        subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                        "mkdocs", "pelican", "markdown"], check=True)
    versions = subprocess.run([str(venv / "bin" / "pip"), "list", "--disable-pip-version-check"],
                              capture_output=True, text=True, check=True).stdout
    keep = [line for line in versions.splitlines()
            if line.split(" ")[0].lower() in ("mkdocs", "pelican", "markdown")]
    print("peers: " + "; ".join(" ".join(line.split()) for line in keep), flush=True)
    return venv


class Corpus:
    """One N: the sources for every tool, and the command that builds each into a folder."""

    def __init__(self, n: int, root: Path, venv: Path, with_search: bool):
        self.n, self.root = n, root
        specs = corpus.make_specs(n)
        self.buildpy = corpus.write_buildpy(specs, root / "buildpy")
        corpus.write_mkdocs(specs, root / "mkdocs")
        corpus.write_pelican(specs, root / "pelican")
        corpus.write_hugo(specs, root / "hugo")
        self.tools = {
            "build.py": self.build_py,
            "floor": self.floor,
            "MkDocs": self.mkdocs,
            "Pelican": self.pelican,
            "Hugo": self.hugo,
        }
        if with_search:
            yml = (root / "mkdocs" / "mkdocs.yml").read_text("utf-8")
            (root / "mkdocs" / "mkdocs-search.yml").write_text(
                yml.replace("plugins: []", "plugins:\n  - search"), "utf-8")
            self.tools["MkDocs+search"] = self.mkdocs_search
        self.venv = venv
        self.count = 0

    def out(self, tool: str) -> Path:
        self.count += 1
        return self.root / "out" / f"{tool.replace('.', '').replace('+', '-')}-{self.count}"

    def build_py(self, out: Path) -> tuple[list[str], Path]:
        return ([PYTHON, str(ROOT / "build.py"), "--content", str(self.buildpy),
                 "--templates", str(ROOT / "templates"), "--static", str(ROOT / "static"),
                 "--config", str(self.root / "buildpy" / "site.toml"), "--out", str(out),
                 "--clean"], self.root)

    def floor(self, out: Path) -> tuple[list[str], Path]:
        return [PYTHON, str(ROOT / "bench" / "floor.py"), str(self.buildpy), str(out)], self.root

    def mkdocs(self, out: Path, config: str = "mkdocs.yml") -> tuple[list[str], Path]:
        return ([str(self.venv / "bin" / "mkdocs"), "build", "-q", "-f", config, "-d", str(out)],
                self.root / "mkdocs")

    def mkdocs_search(self, out: Path) -> tuple[list[str], Path]:
        return self.mkdocs(out, "mkdocs-search.yml")

    def pelican(self, out: Path) -> tuple[list[str], Path]:
        return ([str(self.venv / "bin" / "pelican"), "content", "-s", "pelicanconf.py",
                 "-o", str(out), "-q"], self.root / "pelican")

    def hugo(self, out: Path) -> tuple[list[str], Path]:
        return ([HUGO, "--quiet", "--cacheDir", str(self.root / "hugo-cache"), "-s",
                 str(self.root / "hugo"), "-d", str(out)], self.root / "hugo")


def count_pages(out: Path) -> int:
    return sum(1 for _ in out.rglob("*.html"))


def clean_builds(c: Corpus, runs: int, pages_out: dict) -> dict[str, list]:
    """`runs` rounds, every tool once per round in a rotated order; then one sampled run each."""
    names = list(c.tools)
    results: dict[str, list] = {name: [] for name in names}
    for round_ in range(runs):
        order = names[round_ % len(names):] + names[: round_ % len(names)]
        for name in order:
            out = c.out(name)
            argv, cwd = c.tools[name](out)
            results[name].append(run_measured(argv, cwd=cwd))
            if name not in pages_out:
                pages_out[name] = count_pages(out)
        walls = ", ".join(f"{n} {results[n][-1].wall:.2f}" for n in order)
        print(f"  N={c.n} round {round_ + 1}/{runs}: {walls}", flush=True)
    for name in names:
        argv, cwd = c.tools[name](c.out(name))
        results[name + " (sampled)"] = [run_measured(argv, cwd=cwd, sample=True)]
    return results


def rebuild_nothing_changed(c: Corpus, runs: int) -> list:
    out = c.out("incremental")
    argv, cwd = c.build_py(out)
    run_measured(argv, cwd=cwd)
    argv = [a for a in argv if a != "--clean"]
    return [run_measured(argv, cwd=cwd) for _ in range(runs)]


def watch_latency(c: Corpus, edits: int) -> list[float]:
    """Seconds from the start of writing an edited page to both editions' new HTML on disk."""
    out = c.out("watch")
    argv, cwd = c.build_py(out)
    argv = [PYTHON, "-u", *[a for a in argv[1:] if a != "--clean"], "--watch"]
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines: list[str] = []
    got_line = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            got_line.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + 300
        while not any("watching" in line for line in lines):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("build.py --watch did not start:\n" + "".join(lines))
            got_line.wait(0.1)
            got_line.clear()
        time.sleep(1.0)  # let the watcher settle
        source = c.buildpy / corpus.rel_source(corpus.SECTIONS + 1)
        url = corpus.rel_source(corpus.SECTIONS + 1).removesuffix(".md")
        targets = [out / url / "index.html", out / "zh-hans" / url / "index.html"]
        original = source.read_text("utf-8")
        latencies = []
        for i in range(edits):
            marker = f"bench-edit-{i}-{time.time_ns()}"
            built_before = sum("built" in line for line in lines)
            start = time.perf_counter()
            source.write_text(original + f"\n新增段落 {marker}。\n", "utf-8")
            deadline = start + 30
            while True:
                try:
                    if all(marker in t.read_text("utf-8") for t in targets):
                        break
                except FileNotFoundError:
                    pass
                if time.perf_counter() > deadline:
                    raise RuntimeError("the edit did not reach the output within 30 s:\n"
                                       + "".join(lines[-5:]))
                time.sleep(0.002)
            latencies.append(time.perf_counter() - start)
            settle = time.monotonic() + 10
            while sum("built" in line for line in lines) <= built_before:
                if time.monotonic() > settle:
                    break
                time.sleep(0.01)
            time.sleep(0.3)
        source.write_text(original, "utf-8")
        return latencies
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def real_content(work: Path, runs: int) -> tuple[list, list]:
    base = [PYTHON, str(ROOT / "build.py"), "--content", str(ROOT / "content"),
            "--templates", str(ROOT / "templates"), "--static", str(ROOT / "static"),
            "--config", str(ROOT / "site.toml")]
    clean, unchanged = [], []
    for i in range(runs):
        out = work / f"real-{i}"
        clean.append(run_measured([*base, "--out", str(out), "--clean"]))
        unchanged.append(run_measured([*base, "--out", str(out)]))
    return clean, unchanged


def phase_breakdown(c: Corpus) -> list[list]:
    """In one process, no pool: where the CPU time of a clean build of this corpus goes."""
    spec = importlib.util.spec_from_file_location("site_build_module", ROOT / "build.py")
    b = importlib.util.module_from_spec(spec)
    sys.modules["site_build_module"] = b
    spec.loader.exec_module(b)
    content = c.buildpy
    t = time.perf_counter()
    site = b.gather(content, ROOT / "templates", c.root / "buildpy" / "site.toml",
                    ROOT / "static", b.REGIONS, {})
    gather = time.perf_counter() - t
    env, md = b.make_env(ROOT / "templates"), b.make_markdown()
    content_env = b.make_content_env(site, ROOT / "templates")
    t = time.perf_counter()
    pages = [b.read_page(info, content, content_env, md) for info in site.pages]
    convert = time.perf_counter() - t
    b.to_simplified("預熱")  # the converter is made once per process
    t = time.perf_counter()
    for p in pages:
        b.render_page(env, p, site, "hant")
    render_hant = time.perf_counter() - t
    t = time.perf_counter()
    for p in pages:
        b.render_page(env, p, site, "hans")
    render_hans = time.perf_counter() - t
    convert_html = b.to_simplified
    b.to_simplified = lambda html, phrases=None: html  # the same rendering, no conversion
    try:
        t = time.perf_counter()
        unconverted = [b.render_page(env, p, site, "hans") for p in pages]
        layout_only = time.perf_counter() - t
    finally:
        b.to_simplified = convert_html
    t = time.perf_counter()
    for html in unconverted:
        b.to_simplified(html)
    opencc_time = time.perf_counter() - t
    total = gather + convert + render_hant + render_hans
    rows = [
        ["gather (read, hash, front matter)", gather],
        ["Markdown -> HTML (once per page)", convert],
        ["layout, Traditional edition", render_hant],
        ["layout + OpenCC, Simplified edition", render_hans],
        ["  of which the layout (rendered without OpenCC)", layout_only],
        ["  of which OpenCC (to_simplified on those pages)", opencc_time],
    ]
    return [[name, f"{secs:.3f}", f"{100 * secs / total:.0f} %"] for name, secs in rows]


def summarise(n: int, results: dict, pages_out: dict) -> tuple[str, dict]:
    ours = median(r.wall for r in results["build.py"])
    rows, medians = [], {}
    for name in [k for k in results if not k.endswith("(sampled)")]:
        runs = results[name]
        wall = median(r.wall for r in runs)
        medians[name] = wall
        sampled = results[name + " (sampled)"][0]
        rows.append([
            name, len(runs), f"{wall:.3f}", f"{min(r.wall for r in runs):.3f}",
            f"{max(r.wall for r in runs):.3f}", f"{n / wall:,.0f}",
            f"{median(r.cpu for r in runs):.2f}",
            f"{mib(median(r.max_rss for r in runs)):.0f}",
            f"{mib(sampled.tree_pss):.0f}", f"{mib(sampled.tree_rss):.0f}",
            f"{wall / ours:.2f}", pages_out.get(name, "?"),
        ])
    headers = ["tool", "runs", "median s", "min s", "max s", "pages/s", "CPU s",
               "max RSS MiB", "tree PSS MiB", "tree RSS MiB", "× build.py", "HTML files"]
    text = table(headers, rows, f"Clean build, N = {n:,}")
    return text, medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--runs", default="5,5,3", help="rounds per size (one value or a list)")
    parser.add_argument("--tmpfs", action="store_true", help="work in /dev/shm, not on disk")
    parser.add_argument("--base", type=Path, default=None, help="where the temporary folder goes")
    parser.add_argument("--peers-venv", type=Path, default=None,
                        help="an existing venv with mkdocs and pelican (default: a new one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = [int(r) for r in args.runs.split(",")]
    runs = runs + [runs[-1]] * (len(sizes) - len(runs))
    base = args.base or (Path("/dev/shm") if args.tmpfs else Path("/var/tmp"))
    work = Path(tempfile.mkdtemp(prefix="bench-site-", dir=base))
    print_machine()
    print(f"working in {work} ({'tmpfs' if str(work).startswith('/dev/shm') else 'disk'})")
    try:
        venv = install_peers(args.peers_venv or work / "peers-venv")
        hugo_version = subprocess.run([HUGO, "version"], capture_output=True, text=True).stdout
        print("hugo: " + hugo_version.strip())
        report = []
        for n, r in zip(sizes, runs, strict=True):
            c = Corpus(n, work / f"n{n}", venv, with_search=n <= 1000)
            pages_out: dict = {}
            results = clean_builds(c, r, pages_out)
            text, medians = summarise(n, results, pages_out)
            report.append(text)
            ours = medians["build.py"]
            targets = {"MkDocs": 3.0, "Pelican": 2.0} if n == 1000 else {}
            ratio_rows = []
            for peer, wall in medians.items():
                if peer == "build.py":
                    continue
                if peer == "floor":
                    verdict = f"≤ 0.65: {'met' if ours / wall <= 0.65 else 'missed'}" \
                        if n == 1000 else ""
                    ratio_rows.append(["build.py ÷ floor", f"{wall:.3f}", f"{ours:.3f}",
                                       f"{ours / wall:.2f}", verdict])
                    continue
                goal = targets.get(peer)
                verdict = (f"≥ {goal:.0f}×: {'met' if wall / ours >= goal else 'missed'}"
                           if goal else "")
                ratio_rows.append([f"{peer} ÷ build.py", f"{wall:.3f}", f"{ours:.3f}",
                                   f"{wall / ours:.2f}×", verdict])
            report.append(table(["ratio", "other s", "build.py s", "ratio", "target"],
                                ratio_rows, f"Ratios, N = {n:,}"))
            if n == 1000 or n == sizes[-1] and 1000 not in sizes:
                unchanged = rebuild_nothing_changed(c, 5)
                latencies = watch_latency(c, 5)
                rows = [
                    ["rebuild, nothing changed", len(unchanged),
                     f"{median(x.wall for x in unchanged):.3f}",
                     f"{max(x.wall for x in unchanged):.3f}",
                     f"Hugo's clean build {medians['Hugo']:.3f}"],
                    ["--watch: edit one page -> both editions on disk", len(latencies),
                     f"{median(latencies):.3f}", f"{max(latencies):.3f}", ""],
                ]
                report.append(table(["build.py", "runs", "median s", "max s", "compare"], rows,
                                    f"Incremental, N = {n:,}"))
                report.append(table(["phase (one process, no pool)", "s", "share"],
                                    phase_breakdown(c), f"Where the time goes, N = {n:,}"))
        clean, unchanged = real_content(work, 5)
        pages = sum(1 for _ in (ROOT / "content").rglob("*.md"))
        report.append(table(
            ["build.py on the real content/", "runs", "median s", "max s", "max RSS MiB"],
            [[f"clean build ({pages} pages, both editions)", len(clean),
              f"{median(x.wall for x in clean):.3f}", f"{max(x.wall for x in clean):.3f}",
              f"{mib(median(x.max_rss for x in clean)):.0f}"],
             ["rebuild, nothing changed", len(unchanged),
              f"{median(x.wall for x in unchanged):.3f}", f"{max(x.wall for x in unchanged):.3f}",
              f"{mib(median(x.max_rss for x in unchanged)):.0f}"]],
            "The real site"))
        print_machine()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
