"""PNG charts with matplotlib (Agg backend, no display), for terminals and documents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_SETUP = False


def _plt() -> Any:
    global _SETUP
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    if not _SETUP:
        import logging

        from matplotlib import font_manager

        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

        have = {f.name for f in font_manager.fontManager.ttflist}
        cjk = [f for f in ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
                           "SimHei") if f in have]
        plt.rcParams["font.sans-serif"] = [*cjk, "DejaVu Sans"]
        plt.rcParams["axes.unicode_minus"] = False
        _SETUP = True
    return plt


def lines(path: Path, series: Mapping[str, pd.Series], title: str, ylabel: str = "",
          fill: bool = False) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=100)
    for name, s in series.items():
        ax.plot(pd.to_datetime(s.index), s.to_numpy(dtype=float), label=name, lw=1.2)
        if fill:
            ax.fill_between(pd.to_datetime(s.index), s.to_numpy(dtype=float), 0, alpha=0.3)
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def bars(path: Path, labels: Sequence[str], vals: Sequence[float], title: str,
         ylabel: str = "", colors: Sequence[str] | None = None) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.4), dpi=100)
    ax.bar(list(labels), list(vals), color=list(colors) if colors else None)
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def heatmap(path: Path, table: pd.DataFrame, title: str, fmt: str = "{:.1f}") -> None:
    """A year x month table (values in %), red up / green down."""
    plt = _plt()
    z = table.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(9, 0.5 * max(len(table), 2) + 1.4), dpi=100)
    lim = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    ax.imshow(np.ma.masked_invalid(z), cmap="RdYlGn_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(z.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(z.shape[0]), [str(i) for i in table.index])
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            if np.isfinite(z[i, j]):
                ax.text(j, i, fmt.format(z[i, j]), ha="center", va="center", fontsize=7)
    ax.set_title(title, loc="left", fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
