"""Figures: static heatmaps (matplotlib) and interactive offline heatmaps (plotly)."""

from attention_lab.viz.diagrams import draw_gradient_flow, draw_rnn_unrolled
from attention_lab.viz.heatmap import figure_html, interactive_attention, plot_attention, show

__all__ = [
    "draw_gradient_flow",
    "draw_rnn_unrolled",
    "figure_html",
    "interactive_attention",
    "plot_attention",
    "show",
]
