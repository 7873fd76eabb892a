"""The attention explorer: a local web app to browse every layer and head of a real model.

``attention-lab explore`` starts it on http://127.0.0.1:8000/. It needs no network: the page,
its script, its style and plotly.js are all served by the app itself.
"""

from attention_lab.explorer.server import ExplorerApp, ExplorerServer, make_server
from attention_lab.explorer.sources import AttentionSource, MiniLMSource, TranslationSource
from attention_lab.explorer.summaries import HeadSummary, head_summaries

__all__ = [
    "AttentionSource",
    "ExplorerApp",
    "ExplorerServer",
    "HeadSummary",
    "MiniLMSource",
    "TranslationSource",
    "head_summaries",
    "make_server",
]
