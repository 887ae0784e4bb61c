"""Draw the documentation's images from the bundled sample with the package itself.

- ``docs/images/model_comparison.png``: every default model's share of conversions per channel against the
  simulator's true incremental share (:func:`attribution.plotting.plot_model_comparison`);
- ``docs/images/report.png``: the top of the HTML report (``attribution report``) as headless Chromium shows it.

Run from the repository root: ``python scripts/make_docs_images.py`` (needs the ``plot`` extra and, for the
report, Debian's ``chromium`` or ``ATTRIBUTION_TEST_CHROMIUM``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from matplotlib.figure import Figure

from attribution.sim.datasets import sample_events_path, sample_ground_truth, sample_spend_path
from attribution.htmlreport import write_report
from attribution.htmlreport.browser import find_chromium, screenshot
from attribution.runner import run
from attribution.plotting import plot_model_comparison, save_chart

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def model_comparison(path: Path) -> None:
    table = run([sample_events_path()], progress=False).table
    ax = Figure(figsize=(11.0, 4.8)).subplots()
    plot_model_comparison(table, truth=sample_ground_truth(include_baseline=False), ax=ax)
    ax.set_title("Share of conversions by channel: seven models against the simulated truth (sample data)")
    save_chart(ax, str(path), dpi=100)


def report_screenshot(path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        sys.exit("no Chromium: apt-get install chromium, or set ATTRIBUTION_TEST_CHROMIUM")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        write_report(page, [sample_events_path()], spend=sample_spend_path(), milestone_events=("lead", "qualified"),
                     ci=0.9, n_boot=100, progress=False)
        console = screenshot(chromium, page, path, 1280, 2000)
    if console:
        sys.exit("the report logged console messages:\n" + "\n".join(console))


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    model_comparison(IMAGES / "model_comparison.png")
    report_screenshot(IMAGES / "report.png")
    print(f"wrote {IMAGES / 'model_comparison.png'} and {IMAGES / 'report.png'}")


if __name__ == "__main__":
    main()
