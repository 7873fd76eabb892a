"""Text helpers shared by the LMS exporters."""

from __future__ import annotations

import html
import re

from attention_lab.assessment.figures import figure_data_uri
from attention_lab.assessment.schema import Question

QUIZ_TITLE = "Module 3: The Transformer Revolution (quiz)"


def paragraph(text: str) -> str:
    """Join a YAML block's lines into paragraphs (a blank line separates paragraphs)."""
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()))


def prompt_html(question: Question) -> str:
    parts = [f"<p>{html.escape(p)}</p>" for p in paragraph(question.prompt).split("\n\n")]
    if question.figure:
        parts.append(
            f'<p><img alt="attention heatmap" src="{figure_data_uri(question.figure)}"/></p>'
        )
    return "".join(parts)
