"""The report's plots, drawn on matplotlib's Agg canvas (no pyplot, no global state).

matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from evaluation.records import EvalResult


def seconds_label(value: float) -> str:
    return f"{value:.2f} s" if value >= 0.1 else f"{1000 * value:.0f} ms"


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.0), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def plot_recall(result: EvalResult) -> bytes | None:
    curve = result.recall_curve()
    if not any(value is not None for value in curve["answer"]):
        return None
    figure, axes = _figure()
    axes.plot(curve["k"], curve["answer"], marker="o", label="a passage holds an accepted answer")
    axes.plot(curve["k"], curve["passage"], marker="s", label="a correct passage (support/source)")
    axes.set(xlabel="k (passages retrieved)", ylabel="share of answerable questions",
             title="Answer recall at k", ylim=(0, 1.02), xticks=curve["k"])
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return _png(figure)


def plot_latency(result: EvalResult) -> bytes | None:
    seconds = [record.seconds for record in result.records]
    if not seconds:
        return None
    metrics = result.metrics
    figure, axes = _figure()
    axes.hist(seconds, bins=min(40, max(5, len(seconds) // 5)), color="#4c72b0")
    for key, style, name in (("seconds_median", "-", "median"), ("seconds_p95", "--", "p95")):
        axes.axvline(metrics[key], color="black", linestyle=style,
                     label=f"{name} {seconds_label(metrics[key])}")
    axes.set(xlabel="seconds to answer", ylabel="questions", title="Seconds per question")
    axes.legend()
    return _png(figure)


def plot_abstention(result: EvalResult) -> bytes | None:
    curve = result.abstention_curve()
    if any(p["abstention"] is None or p["false_abstention"] is None for p in curve):
        return None
    metrics = result.metrics
    figure, axes = _figure()
    axes.plot([p["false_abstention"] for p in curve], [p["abstention"] for p in curve],
              label="abstain when confidence < threshold")
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    axes.plot([metrics["false_abstention"]], [metrics["abstention"]], "o", color="crimson",
              label="this run")
    axes.set(xlabel="abstained, of answerable (false abstention)",
             ylabel="abstained, of unanswerable", title="Abstention trade-off",
             xlim=(-0.02, 1.02), ylim=(-0.02, 1.02))
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return _png(figure)


PLOTS: dict[str, tuple[str, Callable[[EvalResult], bytes | None]]] = {
    "recall_at_k.png": ("Answer recall at k", plot_recall),
    "latency.png": ("Seconds per question", plot_latency),
    "abstention.png": ("Abstention trade-off", plot_abstention),
}
