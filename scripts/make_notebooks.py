"""Write the example notebooks in ``notebooks/`` and execute them, storing their outputs (tables, inline charts).

Every notebook is built here from its cells (so a change of the package's API is one edit in one place) and run
top to bottom with nbclient against the installed package, in a temporary folder, so that whatever it writes
(Parquet, SQLite, simulated logs) is thrown away. Charts are inline PNG at 80 dpi to keep each file well under
1 MB. ``tests/test_notebooks.py`` builds and executes the same notebooks.

Run from the repository root: ``python scripts/make_notebooks.py`` (needs the ``test`` extra: nbclient,
nbformat, ipykernel, matplotlib). ``--check`` executes them without writing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TIMEOUT_S = 120  # per cell; each whole notebook runs in seconds on the bundled sample

SETUP = """\
%matplotlib inline
%config InlineBackend.figure_formats = ["png"]
%config InlineBackend.rc = {"figure.dpi": 80, "savefig.dpi": 80}
import matplotlib.pyplot as plt
import pandas as pd

pd.set_option("display.precision", 3)
pd.set_option("display.width", 140)"""

QUICK_START = [
    ("md", """\
# Quick start: every model on the bundled sample

The package ships a small simulated event log (4,000 users, 8 channels, 3 months) with a daily spend table and
the **ground truth**: the conversions each channel really caused. This notebook attributes it with every
registered model, compares the models in tables and charts, and holds them against the truth.

Everything below is computed when the notebook runs; nothing is typed in."""),
    ("code", SETUP),
    ("code", """\
import attribution
from attribution.models import available_models
from attribution.sim.datasets import load_sample_events, sample_events_path, sample_ground_truth

events = load_sample_events()
print(len(events), "rows;", events["user_id"].nunique(), "users")
events.head()"""),
    ("md", """\
## One run, every model

`attribution.run` reads the log, builds the journeys once and fits every model on them. `result.table` is the tidy
table: one row per model × channel."""),
    ("code", """\
models = available_models()
result = attribution.run(sample_events_path(), models=models, progress=False)
print(models)
result.table.head(12)"""),
    ("md", """\
## The models side by side

`compare_table` puts each channel's share of conversions under every model in one wide table, with each channel's
rank under each model and the spread between models (largest − smallest share). Touchless conversions (`(none)`)
are left out of the shares."""),
    ("code", """\
from attribution.kpis.compare import compare_table

compare_table(result.table)"""),
    ("code", """\
from attribution.plotting import plot_model_comparison, plot_share_heatmap

truth = sample_ground_truth(include_baseline=False)
fig, ax = plt.subplots(figsize=(12, 4.5))
shown = result.table[result.table["model"].isin(["first_touch", "last_touch", "linear", "markov", "shapley"])]
plot_model_comparison(shown, truth=truth, ax=ax);"""),
    ("code", """\
fig, ax = plt.subplots(figsize=(11, 4.5))
plot_share_heatmap(result.table, ax=ax);"""),
    ("md", """\
## Against the truth

`attribution.sim.evaluate.scorecard` scores every model: `tvd` (total variation distance between credited and
true shares), `mae_points` (mean share error in percentage points), the worst channel, the rank correlation and
the share of credit given to channels that cause nothing (`direct` in this sample)."""),
    ("code", """\
from attribution.sim.evaluate import scorecard

scorecard(result.table, sample_ground_truth()).sort_values("tvd")"""),
    ("md", """\
## Journeys: lengths, lags and the top paths

The chart accessors read the journeys the run already built; nothing is refitted."""),
    ("code", """\
from attribution.kpis.pathstats import path_length_distribution, time_lag_distribution, top_paths
from attribution.plotting import plot_path_lengths, plot_time_lags, plot_top_paths

fig, axes = plt.subplots(1, 2, figsize=(13, 4))
plot_path_lengths(path_length_distribution(result.journeys, max_length=12), ax=axes[0])
plot_time_lags(time_lag_distribution(result.journeys), ax=axes[1])
fig.tight_layout()"""),
    ("code", """\
paths = top_paths(result.journeys, n=10)
fig, ax = plt.subplots(figsize=(10, 4.5))
plot_top_paths(paths, ax=ax)
paths"""),
    ("md", """\
The same from the command line: `attribution run EVENTS --model linear --model markov`, `attribution compare
EVENTS --plot compare.png`, and `attribution report EVENTS --spend SPEND --output report.html` for one page to
send round."""),
]

CHANNEL_ROI = [
    ("md", """\
# Channel ROI: spend, KPIs by month and campaign, exports for BI

Attribution is about money: which channel pays back. Give the run a spend table and every model's rows gain
spend, ROAS, ROI, CPA (and CPL with a lead milestone); give it a period and they are cut by month."""),
    ("code", SETUP),
    ("code", """\
import attribution
from attribution.sim.datasets import load_sample_spend, sample_events_path, sample_spend_path

spend = load_sample_spend()
print(spend.groupby("cost_type")["spend"].sum().round(2))
spend.head()"""),
    ("md", """\
## KPIs per channel

The spend file carries a `cost_type` per row (here `media` and `tools`): `spend` is the fully loaded cost and
`media_spend` the media rows alone, so `roas` (fully loaded) and `media_roas` can tell two different stories.
`milestone_events=["lead"]` (command line `--milestone-event lead`) attributes the leads too, which gives the
cost per lead."""),
    ("code", """\
models = ["last_touch", "linear", "markov"]
result = attribution.run(sample_events_path(), models=models, spend=sample_spend_path(),
                         milestone_events=["lead"], progress=False)
kpi_columns = ["model", "channel", "conversions", "revenue", "spend", "media_spend", "roas", "media_roas", "roi",
               "cpa", "leads", "cpl"]
result.table[kpi_columns]"""),
    ("code", """\
from attribution.plotting import plot_roi

fig, axes = plt.subplots(1, 2, figsize=(14, 4.5))
plot_roi(result.table, metric="roas", ax=axes[0])
plot_roi(result.table, metric="cpa", ax=axes[1])
fig.tight_layout()"""),
    ("md", """\
## By month

`period="month"` (command line: `--period month`) gives one row per model × channel × month."""),
    ("code", """\
monthly = attribution.run(sample_events_path(), models=["linear"], spend=sample_spend_path(), period="month",
                          progress=False).table
monthly.pivot(index="channel", columns="period", values="roas")"""),
    ("code", """\
from attribution.plotting import plot_kpi_trend

fig, ax = plt.subplots(figsize=(11, 4.5))
plot_kpi_trend(monthly, metric="roas", ax=ax);"""),
    ("md", """\
## By campaign

`by="campaign"` (command line: `--by campaign`) splits every channel's credit over its campaigns."""),
    ("code", """\
by_campaign = attribution.run(sample_events_path(), models=["linear"], by="campaign", progress=False).table
by_campaign[["channel", "campaign", "conversions", "revenue", "share"]].sort_values("conversions",
                                                                                   ascending=False).head(12)"""),
    ("md", """\
## Export for a BI tool

The command line writes CSV, Parquet or JSON by extension, or a SQL table with a database URL
(`--output sqlite:///bi.db --table channel_roi`, PostgreSQL likewise); writes are atomic. From Python the same
writer is `attribution.io.export.write_output`."""),
    ("code", """\
import sqlite3
from attribution.io.export import write_output

write_output(monthly, "channel_roi.parquet")
write_output(monthly, "sqlite:///bi.db", table="channel_roi")
print(pd.read_parquet("channel_roi.parquet").shape)
with sqlite3.connect("bi.db") as con:
    top = pd.read_sql("SELECT channel, period, ROUND(roas, 2) AS roas FROM channel_roi "
                      "ORDER BY roas DESC LIMIT 5", con)
top"""),
    ("md", """\
The same run from the command line:

```bash
attribution run EVENTS --spend SPEND --period month --milestone-event lead -m linear \\
    --output sqlite:///bi.db --table channel_roi
```"""),
]

MARKOV = [
    ("md", """\
# Markov deep dive: transitions, order, removal effects

`markov` builds the absorbing Markov chain of the journeys (states: windows of k consecutive channels, plus START,
CONVERSION and NULL) and solves it exactly. A channel's **removal effect** is the share of conversions lost
when every transition into a state containing the channel goes to NULL instead; conversions are credited in
proportion to the removal effects."""),
    ("code", SETUP),
    ("code", """\
import attribution
from attribution.models import Markov
from attribution.sim.datasets import sample_events_path

journeys, events, summary = attribution.load_journeys(sample_events_path())
m = Markov(order=1).fit(journeys)
print("P(conversion) from START:", round(m.conversion_probability_, 4))
m.removal_effects_"""),
    ("md", "## Transitions"),
    ("code", """\
matrix = m.transition_matrix()
matrix.sort_values("count", ascending=False).head(10)"""),
    ("code", """\
from attribution.plotting import plot_transition_graph, plot_transition_heatmap

fig, axes = plt.subplots(1, 2, figsize=(15, 6))
plot_transition_heatmap(matrix, ax=axes[0])
plot_transition_graph(matrix, ax=axes[1])
fig.tight_layout()"""),
    ("md", """\
## Which order?

`markov:order=auto` tries k = 1..4 and keeps the one with the best out-of-sample log-likelihood of journey
outcomes (ties: the smaller k). `order_scores_` holds the scores."""),
    ("code", """\
auto = Markov(order="auto").fit(journeys)
print("chosen order:", auto.order_)
auto.order_scores_"""),
    ("code", """\
from attribution.kpis.transitions import channel_transitions

# at order 2 the states are pairs of channels; the heatmap aggregates them to channel-level transitions
m2 = Markov(order=2).fit(journeys)
channel_transitions(m2.transition_matrix()).sort_values("count", ascending=False).head(8)"""),
    ("md", """\
## Removal effects at each order, against the heuristics"""),
    ("code", """\
from attribution.plotting import plot_removal_effects

effects = pd.concat([Markov(order=k).fit(journeys).removal_effects_.assign(model=f"markov:order={k}")
                     for k in (1, 2, 3)])
fig, ax = plt.subplots(figsize=(11, 4.5))
plot_removal_effects(effects, model="markov:order=2", ax=ax)
effects.pivot(index="channel", columns="model", values="removal_effect")"""),
    ("code", """\
from attribution.kpis.compare import compare_table
from attribution.plotting import plot_model_comparison

models = ["first_touch", "last_touch", "linear", "markov", "markov:order=2", "markov:order=auto"]
table = attribution.run(sample_events_path(), models=models, progress=False).table
fig, ax = plt.subplots(figsize=(12, 4.5))
plot_model_comparison(table, ax=ax)
compare_table(table)"""),
    ("md", """\
The command line shows the same: `attribution transitions EVENTS --model markov:order=auto` prints the chosen
order, its scores and the transition matrix; `--effects-output effects.csv` writes the removal effects."""),
]

GROUND_TRUTH = [
    ("md", """\
# Ground truth: which trap fools which model

Observational data never tell how many conversions a channel really caused. The simulator does: every simulated
conversion has exactly one cause (a touch, or the user's own baseline), so each channel's true credit is known.
Presets switch one causal trap on at a time:

- **targeting**: search ads and email reach likely buyers more often; they look effective without being so;
- **navigational**: buyers type the URL or click a brand ad minutes before buying; those touches cause nothing.

The scorecard then shows which model each trap fools. Command line: `attribution simulate --scenario NAME` and
`attribution evaluate`."""),
    ("code", SETUP),
    ("code", """\
import attribution
from attribution.sim.scenarios import SCENARIOS, scenario_names, scenario_params
from attribution.sim.simulate import Simulation

scenario_names()"""),
    ("code", """\
from attribution.sim.evaluate import scorecard

MODELS = ["first_touch", "last_touch", "last_non_direct", "linear", "position_based", "markov", "shapley",
          "logistic", "hazard"]
cards = {}
for name in ["no_confounding", "targeting", "navigational"]:
    world = Simulation(**scenario_params(name, n_users=4000)).run(seed=1)
    world.events.to_parquet(f"{name}.parquet")
    table = attribution.run(f"{name}.parquet", models=MODELS, lookback_days=None, progress=False).table
    cards[name] = scorecard(table, world.truth).set_index("model")
pd.DataFrame({name: card["tvd"] for name, card in cards.items()}).round(3)"""),
    ("md", """\
`tvd` is the total variation distance between a model's credited shares and the true ones (0 = right, 1 =
disjoint). The worst-credited channel per model and world:"""),
    ("code", """\
pd.DataFrame({name: card["worst_channel"] for name, card in cards.items()})"""),
    ("code", """\
tvd = pd.DataFrame({name: card["tvd"] for name, card in cards.items()})
ax = tvd.plot.barh(figsize=(9, 5), title="Share error (TVD) by model and world: lower is better")
ax.set_xlabel("total variation distance to the true shares")
ax.set_ylabel("model");"""),
    ("md", """\
## The `hazard` model

`hazard` fits an additive conversion-hazard model on converting and non-converting users; what no channel caused
goes to a `(baseline)` row, so it also gets the **level** right (how many conversions marketing caused), which
every model that credits all conversions to channels overstates. `level_error` is Σ|credit − true| / Σ true over
real channels."""),
    ("code", """\
pd.DataFrame({name: card["level_error"] for name, card in cards.items()}).round(2)"""),
    ("md", """\
## Calibration to experiments

Lift tests (geo or holdout experiments) measure a channel's incremental conversions in a window. With
`experiments=` (command line `--experiments lift.csv`) every model's channel credit is scaled to match them, and
the difference goes to a `(baseline)` row. Here the tests are simulated from the truth with 10% noise."""),
    ("code", """\
from attribution.kpis.calibrate import lift_tests_from_truth

world = Simulation(**scenario_params("retail", n_users=4000)).run(seed=2)
world.events.to_parquet("retail.parquet")
tests = [(c, "2026-01-15", "2026-02-15") for c in ("paid_search", "display", "social", "email")]
lift = lift_tests_from_truth(world.events, world.truth, tests, seed=0)
lift.drop(columns="true_conversions").to_csv("lift.csv", index=False)
lift"""),
    ("code", """\
models = ["last_touch", "linear", "markov"]
plain = attribution.run("retail.parquet", models=models, lookback_days=None, progress=False).table
calibrated = attribution.run("retail.parquet", models=models, lookback_days=None, experiments="lift.csv",
                             progress=False).table
pd.DataFrame({"before": scorecard(plain, world.truth).set_index("model")["level_error"],
              "after calibration": scorecard(calibrated, world.truth).set_index("model")["level_error"]}).round(3)"""),
    ("md", """\
The same on the command line:

```bash
attribution simulate --scenario navigational --users 20000 --seed 0 -o nav.parquet --truth truth.csv
attribution evaluate nav.parquet --truth truth.csv -m last_touch -m linear -m markov -m hazard --lookback-days none
```"""),
]

BOOKS = {
    "01_quick_start.ipynb": QUICK_START,
    "02_channel_roi.ipynb": CHANNEL_ROI,
    "03_markov_deep_dive.ipynb": MARKOV,
    "04_ground_truth.ipynb": GROUND_TRUTH,
}


def build(cells) -> nbformat.NotebookNode:
    """A notebook of the given ``(kind, source)`` cells, without outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    make = {"md": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb.cells = [make[kind](source) for kind, source in cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"  # stable ids: the same notebook gives the same file
    return nb


def execute(nb: nbformat.NotebookNode, folder: str, timeout: int = TIMEOUT_S) -> nbformat.NotebookNode:
    """Run every cell top to bottom in ``folder`` (raises ``nbclient.exceptions.CellExecutionError``)."""
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": folder}}).execute()
    for cell in nb.cells:  # execution metadata holds wall-clock times: drop it so reruns differ only by output
        cell.get("metadata", {}).pop("execution", None)
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook file names (default: all)")
    parser.add_argument("--check", action="store_true", help="execute without writing")
    args = parser.parse_args(argv)
    for name in args.names or BOOKS:
        with tempfile.TemporaryDirectory() as tmp:
            nb = execute(build(BOOKS[name]), tmp)
        if not args.check:
            NOTEBOOKS.mkdir(exist_ok=True)
            nbformat.write(nb, str(NOTEBOOKS / name))
            print(f"{name}: {(NOTEBOOKS / name).stat().st_size / 1024:.0f} KB")
        else:
            print(f"{name}: ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
