"""Self-attention step by step, drawn from the numbers of one problem.

    X -> Q = X W_q, K = X W_k, V = X W_v -> Q K^T -> / sqrt(d_k) -> softmax per row -> weights V

(Vaswani et al. 2017, Eq. 1, section 3.2.1.) Every matrix is drawn as a table with its values
and its labels (tokens on the rows), with arrows between the steps. The input is any object with
the attributes of :class:`attention_lab.handcalc.HandCalcProblem` (``tokens``, ``X``, ``Q``,
``K``, ``V``, ``scores``, ``scaled_scores``, ``weights``, ``output``, ``d_k``), so the hand
calculation's own numbers are the ones shown.

- :func:`draw_attention_steps`: a static figure (the page, the worksheet, slides); ``blank=True``
  leaves every computed table empty, to be filled in by hand; ``query`` highlights one query's
  path (its row in X, Q, the scores, the weights and the output; K and V framed, since every row
  of them is used).
- :func:`attention_steps_alt`: the same content in words (the figure's alt text).
- :func:`attention_stepper_html`: a self-contained HTML widget (no network, no library) with
  Previous / Next buttons and a choice of query token, that walks one query through the steps.

Shape legend: T tokens, D = d_model, d_k width of Q, K, V.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
from typing import Any

import numpy as np
from matplotlib.patches import FancyArrowPatch

from attention_lab.viz.figure import DescribedFigure
from attention_lab.viz.tables import LabelledTable, as_matrix, draw_matrix, matrix_table

__all__ = ["attention_stepper_html", "attention_steps_alt", "draw_attention_steps", "step_tables"]

_STEPS = ("X", "Q", "K", "V", "scores", "scaled_scores", "weights", "output")


def _check_problem(problem: Any) -> dict[str, np.ndarray]:
    missing = [name for name in (*_STEPS, "tokens", "d_k") if not hasattr(problem, name)]
    if missing:
        raise TypeError(
            "problem: expected a hand-calculation problem (attention_lab.generate_handcalc(seed)) "
            f"with tokens, X, Q, K, V, scores, scaled_scores, weights, output and d_k; "
            f"got {type(problem).__name__} without {', '.join(missing)}"
        )
    arrays = {name: as_matrix(name, getattr(problem, name)) for name in _STEPS}
    T = len(problem.tokens)
    for name, M in arrays.items():
        if M.shape[0] != T or (name in ("scores", "scaled_scores", "weights") and M.shape[1] != T):
            raise ValueError(
                f"problem.{name}: expected {T} rows (one per token) and, for scores and weights, "
                f"{T} columns; got shape {M.shape}"
            )
    return arrays


def _check_query(query: object, T: int) -> None:
    if query is None:
        return
    if isinstance(query, bool) or not isinstance(query, int):
        raise TypeError(f"query: expected a token index (int) or None, got {type(query).__name__}")
    if not 0 <= query < T:
        raise ValueError(f"query: expected a token index in [0, {T - 1}], got {query}")


def step_tables(problem: Any) -> dict[str, LabelledTable]:
    """The eight tables of the calculation, labelled (tokens on the rows)."""
    arrays = _check_problem(problem)
    tokens = [str(t) for t in problem.tokens]
    features = [f"x{j + 1}" for j in range(arrays["X"].shape[1])]
    dk = [f"d{j + 1}" for j in range(arrays["Q"].shape[1])]
    sqrt_text = _sqrt_text(problem.d_k)
    captions = {
        "X": ("X (input)", features, 2),
        "Q": ("Q = X W_q", dk, 2),
        "K": ("K = X W_k", dk, 2),
        "V": ("V = X W_v", dk, 2),
        "scores": ("Q K^T", tokens, 2),
        "scaled_scores": (f"scaled: ÷ √d_k = ÷ {sqrt_text}", tokens, 2),
        "weights": ("softmax per row", tokens, 2),
        "output": ("weights V = output", dk, 2),
    }
    return {
        name: matrix_table(arrays[name], tokens, cols, decimals=dec, caption=caption)
        for name, (caption, cols, dec) in captions.items()
    }


def _sqrt_text(d_k: int) -> str:
    root = math.sqrt(d_k)
    return f"{root:g}" if root.is_integer() else f"{root:.2f}"


def _arrow(ax, start, end, text: str = "") -> None:
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=13, color="#333", lw=1.3)
    )
    if text:
        mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.12)
        ax.text(*mid, text, ha="center", va="bottom", fontsize=8.5, color="#333")


def draw_attention_steps(
    problem: Any, *, blank: bool = False, query: int | None = None
) -> DescribedFigure:
    """Draw every step of Eq. 1 on ``problem``'s numbers: X, then Q, K, V, then the scores, the
    scaled scores, the softmax weights and the output, with arrows naming each operation.

    ``blank``: draw the computed tables empty (X stays filled: it is given). ``query``: highlight
    one query token's path (an index into ``problem.tokens``). The returned figure carries
    ``alt_text`` (:func:`attention_steps_alt`).
    """
    tables = step_tables(problem)
    T = len(problem.tokens)
    _check_query(query, T)
    D, d_k = tables["X"].values.shape[1], tables["Q"].values.shape[1]
    cw, ch = 0.62, 0.42
    gap = 1.9
    # top row: X -> Q, K, V
    top_widths = [D] + [d_k] * 3
    bottom_widths = [T, T, T, d_k]
    top_width = sum(top_widths) * cw + (gap + 0.6) + 2 * 0.6 * gap
    width = 0.9 + max(top_width, sum(bottom_widths) * cw + 3 * gap) + 0.3
    height = 2 * T * ch + 3.5
    fig = DescribedFigure(figsize=(min(0.8 * width, 15), 0.8 * height + 0.5))
    ax = fig.add_subplot()
    y_top, y_bottom = height - 0.9, T * ch + 0.6
    x = 0.9
    boxes = {}
    for name in ("X", "Q", "K", "V"):
        outline = "tab:orange" if query is not None and name in ("K", "V") else None
        highlight = query if name in ("X", "Q") else None
        boxes[name] = draw_matrix(
            ax, x, y_top, tables[name], blank=blank and name != "X",
            highlight_row=highlight, outline=outline, cell=(cw, ch),
        )  # fmt: skip
        x = boxes[name][1] + (gap + 0.6 if name == "X" else gap * 0.6)
    x = 0.9
    for name in ("scores", "scaled_scores", "weights", "output"):
        boxes[name] = draw_matrix(
            ax, x, y_bottom, tables[name], blank=blank, highlight_row=query, cell=(cw, ch)
        )
        x = boxes[name][1] + gap
    mid = lambda b: (b[2] + b[3]) / 2  # noqa: E731
    _arrow(ax, (boxes["X"][1] + 0.05, mid(boxes["X"])), (boxes["Q"][0] - 0.45, mid(boxes["Q"])),
           "× W_q, W_k, W_v")  # fmt: skip
    _arrow(ax, (boxes["Q"][1] - 0.2, boxes["Q"][2] - 0.05),
           (boxes["scores"][0] + 0.5, boxes["scores"][3] + 0.55), "Q K^T")  # fmt: skip
    sqrt_text = _sqrt_text(problem.d_k)
    for a, b, text in (
        ("scores", "scaled_scores", f"÷ {sqrt_text}"),
        ("scaled_scores", "weights", "softmax"),
        ("weights", "output", "× V"),
    ):
        _arrow(ax, (boxes[a][1] + 0.1, mid(boxes[a])), (boxes[b][0] - 0.6, mid(boxes[b])), text)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    seed = getattr(problem, "seed", None)
    title = "Self-attention step by step" + (
        f" (hand calculation, seed {seed})" if seed is not None else ""
    )
    if blank:
        title += ": fill in the empty tables"
    if query is not None:
        title += f"; the path of query '{problem.tokens[query]}' is shaded"
    ax.set_title(title, fontsize=11)
    fig.alt_text = attention_steps_alt(problem, blank=blank, query=query)
    return fig


def attention_steps_alt(problem: Any, *, blank: bool = False, query: int | None = None) -> str:
    """The figure in words, from the same numbers: shapes, the score range, and for each query
    token where its largest weight goes (or, for the blank version, what to fill in)."""
    tables = step_tables(problem)
    tokens = [str(t) for t in problem.tokens]
    T, D = tables["X"].values.shape
    d_k = tables["Q"].values.shape[1]
    text = [
        f"Self-attention step by step on the {T} tokens '{' '.join(tokens)}': X ({T} x {D}) "
        f"times W_q, W_k and W_v gives Q, K and V ({T} x {d_k} each); Q K^T gives a {T} x {T} "
        f"table of scores, divided by sqrt(d_k) = {_sqrt_text(problem.d_k)}; a softmax along "
        f"each row gives the weights; weights times V gives the output ({T} x {d_k})."
    ]
    if blank:
        text.append(" Only X is filled in; every other table is empty, to be computed by hand.")
        return "".join(text)
    scores, weights = tables["scores"].values, tables["weights"].values
    text.append(f" The scores range from {scores.min():g} to {scores.max():g}.")
    rows = range(T) if query is None else [query]
    for i in rows:
        j = int(np.argmax(weights[i]))
        text.append(
            f" Query '{tokens[i]}' puts its largest weight, {weights[i, j]:.2f}, on "
            f"'{tokens[j]}'; its output is ({', '.join(tables['output'].cells()[i])})."
        )
    return "".join(text)


# --- the interactive stepper ------------------------------------------------------------------

_STAGES = (
    ("X", "Start from X: one row per token."),
    ("QKV", "Q = X W_q, K = X W_k, V = X W_v: three linear maps of the same rows."),
    ("scores", "Scores: the query's row of Q dotted with every row of K."),
    ("scaled_scores", "Scale: divide every score by sqrt(d_k)."),
    ("weights", "Softmax along the row: positive weights that add up to 1."),
    ("output", "Output: the weights times V, a weighted average of the value rows."),
)


def _stage_text(problem: Any, tables: dict[str, LabelledTable], i: int, stage: str) -> str:
    """What happens to query ``i`` at ``stage``, with its numbers."""
    tokens = [str(t) for t in problem.tokens]
    q = tables["Q"].cells()[i]
    s, ss, w = (tables[n].values[i] for n in ("scores", "scaled_scores", "weights"))
    who = f"'{tokens[i]}'"
    if stage == "X":
        return f"Token {who} is row {i + 1} of X: ({', '.join(tables['X'].cells()[i])})."
    if stage == "QKV":
        return f"Its query is q = ({', '.join(q)}); every token also gets a key and a value."
    if stage == "scores":
        parts = [f"q . k_{tokens[j]} = {s[j]:g}" for j in range(len(tokens))]
        return f"{who} compares its query with every key: " + "; ".join(parts) + "."
    if stage == "scaled_scores":
        return (
            f"Divided by sqrt(d_k) = {_sqrt_text(problem.d_k)}: "
            + ", ".join(f"{x:g}" for x in ss)
            + "."
        )
    if stage == "weights":
        j = int(np.argmax(w))
        return (
            f"softmax: {', '.join(f'{x:.2f}' for x in w)} (sum {w.sum():.2f}); the largest weight "
            f"goes to '{tokens[j]}'."
        )
    out = ", ".join(tables["output"].cells()[i])
    mix = " + ".join(f"{w[j]:.2f} v_{tokens[j]}" for j in range(len(tokens)))
    return f"{who}'s output = {mix} = ({out})."


def _html_table(table: LabelledTable, key: str) -> str:
    esc = html.escape
    head = "<tr><th></th>" + "".join(f"<th>{esc(c)}</th>" for c in table.columns) + "</tr>"
    body = "".join(
        f'<tr data-row="{i}"><th>{esc(r)}</th>' + "".join(f"<td>{c}</td>" for c in row) + "</tr>"
        for i, (r, row) in enumerate(zip(table.rows, table.cells()))
    )
    return f'<table data-key="{key}"><caption>{esc(table.caption)}</caption>{head}{body}</table>'


def attention_stepper_html(problem: Any) -> str:
    """A self-contained HTML fragment: the steps of Eq. 1 on ``problem``, revealed one at a time
    with Previous / Next, one query token's row highlighted in every table (buttons pick it),
    and a sentence with that query's numbers at each step. No network, no external script."""
    tables = step_tables(problem)
    tokens = [str(t) for t in problem.tokens]
    T = len(tokens)
    texts = [[_stage_text(problem, tables, i, s) for s, _ in _STAGES] for i in range(T)]
    digest = hashlib.sha1(json.dumps(texts).encode()).hexdigest()[:10]
    uid = f"attn-steps-{digest}"
    groups = {
        "X": ["X"], "QKV": ["Q", "K", "V"], "scores": ["scores"],
        "scaled_scores": ["scaled_scores"], "weights": ["weights"], "output": ["output"],
    }  # fmt: skip
    stage_html = "".join(
        f'<div class="stage" data-stage="{k}">'
        + "".join(_html_table(tables[n], n) for n in groups[s])
        + f'<p class="what">{html.escape(what)}</p></div>'
        for k, (s, what) in enumerate(_STAGES)
    )
    buttons = "".join(
        f'<button type="button" data-query="{i}">{html.escape(t)}</button>'
        for i, t in enumerate(tokens)
    )
    data = json.dumps({"texts": texts, "stages": len(_STAGES)})
    return f"""<div id="{uid}" class="attention-stepper">
<style>
#{uid} {{ font-family: sans-serif; font-size: 14px; }}
#{uid} table {{ border-collapse: collapse; display: inline-table; margin: 0 1em 0.6em 0; }}
#{uid} td, #{uid} th {{ border: 1px solid #999; padding: 2px 7px; text-align: right; }}
#{uid} th {{ background: #f2f2f2; font-weight: normal; }}
#{uid} caption {{ font-weight: bold; text-align: left; }}
#{uid} tr.hl td, #{uid} tr.hl th {{ background: #fde9c8; }}
#{uid} .stage {{ display: inline-block; vertical-align: top; margin-right: 1em; }}
#{uid} .stage.hidden {{ display: none; }}
#{uid} .stage.current {{ outline: 2px solid #e69f00; padding: 4px; }}
#{uid} .what {{ margin: 0.2em 0 0.8em; color: #333; }}
#{uid} .now {{ font-weight: bold; margin: 0.5em 0; }}
#{uid} button[aria-pressed="true"] {{ background: #e69f00; color: black; }}
</style>
<div>Query: {buttons}</div>
<div><button type="button" class="prev">&larr; Previous</button>
<button type="button" class="next">Next &rarr;</button> <span class="count"></span></div>
<p class="now" aria-live="polite"></p>
{stage_html}
<script>
(function() {{
  var root = document.getElementById("{uid}"), data = {data}, step = 0, query = 0;
  function render() {{
    root.querySelectorAll(".stage").forEach(function(el) {{
      var k = Number(el.dataset.stage);
      el.classList.toggle("hidden", k > step);
      el.classList.toggle("current", k === step);
    }});
    root.querySelectorAll("tr[data-row]").forEach(function(tr) {{
      var key = tr.closest("table").dataset.key, mine = Number(tr.dataset.row) === query;
      tr.classList.toggle("hl", (key === "K" || key === "V") ? false : mine);
    }});
    root.querySelectorAll("button[data-query]").forEach(function(b) {{
      b.setAttribute("aria-pressed", String(Number(b.dataset.query) === query));
    }});
    root.querySelector(".now").textContent = data.texts[query][step];
    root.querySelector(".count").textContent = "step " + (step + 1) + " of " + data.stages;
  }}
  root.querySelector(".prev").onclick = function() {{ step = Math.max(0, step - 1); render(); }};
  root.querySelector(".next").onclick = function() {{
    step = Math.min(data.stages - 1, step + 1); render(); }};
  root.querySelectorAll("button[data-query]").forEach(function(b) {{
    b.onclick = function() {{ query = Number(b.dataset.query); render(); }};
  }});
  render();
}})();
</script>
</div>"""
