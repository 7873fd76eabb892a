"""The worked solution as Markdown, and a printable worksheet (problem, blank tables, answer key).

The worksheet is one self-contained HTML file (no scripts, no web fonts) that prints on A4 or
Letter: page 1 holds the problem, the empty step-by-step diagram and blank tables; the answer key,
with the same diagram filled in, starts on a new page.
"""

from __future__ import annotations

import html

import numpy as np

from attention_lab.handcalc.problem import HandCalcProblem, round_half_up
from attention_lab.viz.attention_steps import draw_attention_steps


def _num(x: float, decimals: int = 2, whole: bool | None = None) -> str:
    x = float(x)
    if whole if whole is not None else x.is_integer():
        return str(int(x))
    return f"{x:.{decimals}f}"


def _whole(M: np.ndarray) -> bool:
    """A table prints without decimals only if every entry is a whole number."""
    return bool(np.all(M == np.round(M)))


def _markdown_table(
    M: np.ndarray, rows: list[str], cols: list[str], decimals: int = 2, corner: str = ""
) -> str:
    head = f"| {corner} | " + " | ".join(cols) + " |"
    rule = "|---|" + "---|" * len(cols)
    body = [
        f"| {r} | " + " | ".join(_num(x, decimals, _whole(M)) for x in row) + " |"
        for r, row in zip(rows, M)
    ]
    return "\n".join([head, rule, *body])


def _labels(problem: HandCalcProblem) -> dict[str, list[str]]:
    return {
        "tokens": list(problem.tokens),
        "model": [f"x{j + 1}" for j in range(problem.d_model)],
        "dk": [f"d{j + 1}" for j in range(problem.d_k)],
    }


def solution_markdown(p: HandCalcProblem) -> str:
    """Every step of the worked solution: a sentence of why, then the table."""
    lab = _labels(p)
    tok, dk, dec = lab["tokens"], lab["dk"], p.decimals
    sqrt_text = _num(p.sqrt_d_k) if p.sqrt_d_k.is_integer() else f"{p.sqrt_d_k:.2f}"
    row_sums = p.exp_scores.sum(axis=1)
    parts = [
        f"### Worked solution (seed {p.seed})",
        "**1. Queries, keys, values.** Each is the token vectors times a weight matrix: "
        "Q = X W_q, K = X W_k, V = X W_v (entry [i, j] = row i of X dotted with column j of W).",
        "Q =\n\n" + _markdown_table(p.Q, tok, dk),
        "K =\n\n" + _markdown_table(p.K, tok, dk),
        "V =\n\n" + _markdown_table(p.V, tok, dk),
        "**2. Scores.** Q K^T: row = query token, column = key token; entry = query row dotted "
        "with key row.",
        _markdown_table(p.scores, tok, tok, corner="query \\ key"),
        f"**3. Scale.** Divide every score by sqrt(d_k) = sqrt({p.d_k}) = {sqrt_text}.",
        _markdown_table(p.scaled_scores, tok, tok, corner="query \\ key"),
        "**4. Softmax along each row.** Subtract the row's largest value (it cancels), take "
        "exp(), divide by the row's total. exp(scaled - row max), to 3 decimals:",
        _markdown_table(p.exp_scores, tok, tok, decimals=3, corner="query \\ key"),
        "Row totals: " + ", ".join(f"{t} {s:.3f}" for t, s in zip(tok, row_sums)) + ".",
        f"Weights, rounded to {dec} decimals (each row adds up to 1, give or take rounding):",
        _markdown_table(p.weights, tok, tok, decimals=dec, corner="query \\ key"),
        "**5. Output.** Each token's output is its row of weights times V: a weighted average of "
        f"the value rows (from the rounded weights, rounded to {dec} decimals).",
        _markdown_table(p.output, tok, dk, decimals=dec),
    ]
    return "\n\n".join(parts)


_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 46em; margin: 2em auto; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.4em 1.2em 0.8em 0; display: inline-table; }
td, th { border: 1px solid #444; padding: 0.25em 0.6em; text-align: center; min-width: 3.2em; }
th { background: #eee; font-weight: normal; font-style: italic; }
caption { caption-side: top; font-weight: bold; text-align: left; padding-bottom: 0.2em; }
td.blank { height: 1.8em; }
.answer-key { break-before: page; page-break-before: always; }
.note { font-size: 0.9em; color: #333; }
.diagram img { width: 100%; break-inside: avoid; }
@media print { body { margin: 0; } }
"""


def _html_table(
    caption: str,
    M: np.ndarray | None,
    rows: list[str],
    cols: list[str],
    decimals: int = 2,
    corner: str = "",
    shape: tuple[int, int] | None = None,
) -> str:
    esc = html.escape
    head = (
        "<tr>"
        + (f'<th scope="col">{esc(corner)}</th>' if corner else "<td></td>")
        + "".join(f'<th scope="col">{esc(c)}</th>' for c in cols)
        + "</tr>"
    )
    n_rows, n_cols = shape if M is None else M.shape
    body = []
    for i in range(n_rows):
        cells = (
            "".join("<td class='blank'></td>" for _ in range(n_cols))
            if M is None
            else "".join(f"<td>{_num(x, decimals, _whole(M))}</td>" for x in M[i])
        )
        body.append(f'<tr><th scope="row">{esc(rows[i])}</th>{cells}</tr>')
    return f"<table><caption>{esc(caption)}</caption>{head}{''.join(body)}</table>"


def _exp_table(p: HandCalcProblem) -> str:
    """e^x for the values a learner meets after subtracting the row max (if they are on a grid)."""
    if not p.sqrt_d_k.is_integer():
        return "<p class='note'>Use a calculator for exp().</p>"
    step = 1 / p.sqrt_d_k
    n = round(4 / step)
    xs = [-k * step for k in range(n + 1)]
    cells = "".join(
        f"<tr><td>{_num(x, 2)}</td><td>{_num(float(round_half_up(np.exp(x), 3)), 3)}</td></tr>"
        for x in xs
    )
    return (
        "<table><caption>e^x table</caption>"
        f'<tr><th scope="col">x</th><th scope="col">e^x</th></tr>{cells}</table>'
    )


def worksheet_html(p: HandCalcProblem) -> str:
    """A printable worksheet: the problem with blank tables, then the answer key on a new page."""
    lab = _labels(p)
    tok, model, dk, dec = lab["tokens"], lab["model"], lab["dk"], p.decimals
    T = len(tok)
    sqrt_text = _num(p.sqrt_d_k) if p.sqrt_d_k.is_integer() else f"{p.sqrt_d_k:.4f}"
    given = "".join(
        _html_table(name, M, rows, cols)
        for name, M, rows, cols in (
            ("X (one row per token)", p.X, tok, model),
            ("W_q", p.W_q, model, dk),
            ("W_k", p.W_k, model, dk),
            ("W_v", p.W_v, model, dk),
        )
    )
    qk = "query \\ key"
    steps = [
        ("1. Q = X W_q", (T, p.d_k), tok, dk, "", "Q", 2),
        ("K = X W_k", (T, p.d_k), tok, dk, "", "K", 2),
        ("V = X W_v", (T, p.d_k), tok, dk, "", "V", 2),
        ("2. scores = Q K^T", (T, T), tok, tok, qk, "scores", 2),
        (f"3. scaled = scores / {sqrt_text}", (T, T), tok, tok, qk, "scaled_scores", 2),
        ("4a. exp(scaled - row max)", (T, T), tok, tok, qk, "exp_scores", 3),
        (f"4b. weights = softmax per row ({dec} dp)", (T, T), tok, tok, qk, "weights", dec),
        (f"5. output = weights V ({dec} dp)", (T, p.d_k), tok, dk, "", "output", dec),
    ]
    blanks = "".join(
        _html_table(cap, None, rows, cols, corner=corner, shape=shape)
        for cap, shape, rows, cols, corner, _, _ in steps
    )
    answers = "".join(
        _html_table(cap, getattr(p, attr), rows, cols, decimals=d, corner=corner)
        for cap, _, rows, cols, corner, attr, d in steps
    )
    title = f"Self-attention by hand: worksheet (seed {p.seed})"
    empty, filled = (
        draw_attention_steps(p, blank=blank).img_html() for blank in (True, False)
    )  # the same diagram twice: to fill in, and filled in
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body><main>
<section class="problem">
<h1>{html.escape(title)}</h1>
<p>The sequence <b>{html.escape(" ".join(tok))}</b> has {T} tokens, each a vector of
d_model = {p.d_model} numbers (the rows of X). One attention head with d_k = {p.d_k}.
Compute Attention(Q, K, V) = softmax(Q K<sup>T</sup> / &radic;d<sub>k</sub>) V
(Vaswani et al. 2017, Eq. 1), filling in the tables in order. &radic;{p.d_k} = {sqrt_text}.
Round the softmax weights and the output to {dec} decimals.</p>
<h2>Given</h2>
{given}
<h2>The steps</h2>
<div class="diagram">{empty}</div>
<h2>Your calculation</h2>
{blanks}
{_exp_table(p)}
<p class="note">Check your answers in a notebook:
<code>check_handcalc({p.seed}, tokens={T}, d_model={p.d_model}, d_k={p.d_k},
Q=..., scores=..., weights=..., output=...)</code>
(from <code>attention_lab</code>) names the first wrong step and the likely reason.</p>
</section>
<section class="answer-key">
<h1>Answer key (seed {p.seed})</h1>
<div class="diagram">{filled}</div>
{answers}
<p class="note">Rounded weights need not add up to exactly 1; the output uses the rounded
weights. Hand answers within rounding of these are correct.</p>
</section>
</main></body></html>
"""
