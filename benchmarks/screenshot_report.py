"""Screenshot the HTML report of ``data/examples/sms-backup.xml`` with headless Chromium (for the docs).

Usage: ``python benchmarks/screenshot_report.py [OUTPUT.png] [--input EXPORT] [--width 1200]``
(default output ``reports/report.png``). Needs a ``chromium`` (or ``chromium-browser`` /
``google-chrome``) binary; on Debian ``apt-get install chromium fonts-noto-cjk`` (the fonts make
the Chinese headings readable). The page is loaded once to measure its height, then captured whole.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectclf.report import build_report  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser() -> str:
    """Path of the first Chromium-like browser on PATH."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("no chromium binary found; install one (Debian: apt-get install chromium)")


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium offline on a local page with the given extra flags."""
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={profile}", "--virtual-time-budget=5000", *extra, page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default="reports/report.png")
    parser.add_argument("--input", default=str(ROOT / "data" / "examples" / "sms-backup.xml"))
    parser.add_argument("--width", type=int, default=1200)
    args = parser.parse_args(argv)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        start = time.perf_counter()
        page = build_report(args.input, folder / "report.html")
        built = time.perf_counter() - start
        dom = chromium(page, folder / "profile", f"--window-size={args.width},1000", "--dump-dom").stdout
        found = re.search(r'data-height="(\d+)"', dom)
        height = min(int(found.group(1)) + 40, 16000) if found else 4000
        chromium(page, folder / "profile", f"--window-size={args.width},{height}", f"--screenshot={output.resolve()}")
    if not output.exists():
        raise SystemExit("chromium wrote no screenshot")
    print(f"report built in {built:.2f} s; screenshot {args.width}x{height} written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
