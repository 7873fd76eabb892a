"""`attention-lab similarity | attention | explore`: the pretrained MiniLM in our own encoder."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from attention_lab.cli._extras import require
from attention_lab.cli._messages import fail
from attention_lab.cli._paths import figure_file, output_file

console = Console()
errors = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("similarity")(similarity)
    app.command("attention")(attention)
    app.command("explore")(explore)


def _load():
    import torch

    from attention_lab.nn.bert import load_minilm

    torch.set_num_threads(1)
    try:
        return load_minilm()
    except (ModuleNotFoundError, FileNotFoundError) as error:
        fail(str(error), code=1)


def similarity(
    sentences: list[str] = typer.Argument(..., help="Two or more sentences, each in quotes."),
    json_path: Path | None = typer.Option(
        None, "--json", callback=output_file, help="Also write the matrix as JSON."
    ),
) -> None:
    """Cosine similarity of sentence embeddings (all-MiniLM-L6-v2 in our own encoder)."""
    require("pretrained", "similarity")
    from attention_lab.nn.bert import sentence_embeddings

    if len(sentences) < 2:
        fail(f"sentences: expected at least 2 sentences to compare, got {len(sentences)}")
    model, tokenizer = _load()
    max_len = 256  # all-MiniLM-L6-v2's sentence length (sentence_bert_config.json)
    try:
        batch = tokenizer(sentences, max_len=max_len)
        embeddings = sentence_embeddings(model, tokenizer, sentences, max_len=max_len)
    except ValueError as error:
        fail(str(error))
    for i, (cut, n) in enumerate(zip(batch.truncated, batch.num_tokens)):
        if cut:
            errors.print(
                f"note: sentence {i + 1} has {n} tokens; only the first {max_len} were used"
            )
    matrix = (embeddings @ embeddings.T).clamp(-1, 1)  # unit vectors: dot product = cosine

    table = Table(title="cosine similarity (1 = same meaning, ~0 = unrelated)")
    table.add_column("#", justify="right")
    table.add_column("sentence")
    for j in range(len(sentences)):
        table.add_column(str(j + 1), justify="right")
    for i, sentence in enumerate(sentences):
        short = sentence if len(sentence) <= 50 else sentence[:47] + "..."
        table.add_row(
            str(i + 1), short, *(f"{float(matrix[i, j]):.3f}" for j in range(len(sentences)))
        )
    console.print(table)
    if json_path is not None:
        json_path.write_text(
            json.dumps({"sentences": sentences, "cosine": matrix.tolist()}, indent=2)
        )
        console.print(f"wrote {json_path}", soft_wrap=True, markup=False, highlight=False)


def attention(
    sentence: str = typer.Argument(..., help="The sentence to look at, in quotes."),
    layer: int = typer.Option(0, "--layer", "-l", help="Layer, 0-5 (0 = closest to the input)."),
    head: int = typer.Option(0, "--head", "-h", help="Head, 0-11."),
    output: Path = typer.Option(
        Path("attention.png"),
        "--output",
        "-o",
        callback=figure_file,
        help="Image to write (png/svg/pdf).",
    ),
) -> None:
    """Write a heatmap of one head's attention weights for SENTENCE."""
    require("pretrained", "attention")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from attention_lab.explorer.summaries import head_summaries
    from attention_lab.nn.bert import sentence_attention
    from attention_lab.viz import plot_attention

    model, tokenizer = _load()
    L, H = model.config.num_layers, model.config.num_heads
    if not 0 <= layer < L:
        fail(f"--layer: expected a layer in 0..{L - 1} (MiniLM has {L}), got {layer}")
    if not 0 <= head < H:
        fail(f"--head: expected a head in 0..{H - 1} (MiniLM has {H}), got {head}")
    try:
        result = sentence_attention(model, tokenizer, sentence)
    except ValueError as error:
        fail(str(error))
    if result.truncated:
        errors.print(
            f"note: the sentence has {result.num_tokens} tokens; MiniLM reads at most "
            f"{model.config.max_len}, so only the first {model.config.max_len} are shown"
        )
    weights = result.weights[layer, head]  # (T, T)
    T = len(result.tokens)
    side = min(4 + 0.32 * T, 16)
    figure, ax = plt.subplots(figsize=(side + 1.5, side))
    plot_attention(
        weights, result.tokens, ax=ax, title=f"all-MiniLM-L6-v2, layer {layer}, head {head}"
    )
    if T > 64:  # past ~64 labels they overlap: label every step-th token
        step = -(-T // 64)
        ticks = range(0, T, step)
        ax.set_xticks(ticks, result.tokens[::step], rotation=60, ha="right")
        ax.set_yticks(ticks, result.tokens[::step])
    figure.savefig(output, dpi=120, bbox_inches="tight")
    plt.close(figure)
    summary = head_summaries(
        result.weights[layer : layer + 1, head : head + 1],
        result.tokens,
        start_token="[CLS]",
        end_token="[SEP]",
        self_attention=True,
    )[0][0]
    console.print(
        f"layer {layer}, head {head}: entropy {summary.entropy:.2f} bits, "
        f"on [CLS] {summary.start:.2f}, on [SEP] {summary.end:.2f}, "
        f"previous token {summary.previous or 0.0:.2f}, itself {summary.itself:.2f}",
        soft_wrap=True,
    )
    console.print(f"wrote {output}", soft_wrap=True, markup=False, highlight=False)


def explore(
    port: int = typer.Option(
        8000, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one)."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Also explore the Lab 3.3 translation model saved here."
    ),
    gpt: Path | None = typer.Option(
        None, "--gpt", help="Also explore the GPT saved by `attention-lab run gpt --checkpoint`."
    ),
    open_browser: bool = typer.Option(True, "--open/--no-open", help="Open a browser tab."),
) -> None:
    """Start the attention explorer on http://127.0.0.1:PORT/ (Ctrl-C stops it)."""
    import webbrowser

    import torch

    from attention_lab.explorer import make_server
    from attention_lab.explorer.sources import SourceUnavailableError
    from attention_lab.nn.bert import minilm_path

    torch.set_num_threads(1)
    try:
        minilm_path()
    except ModuleNotFoundError as error:
        errors.print(f"[yellow]warning:[/yellow] {escape(str(error))}; the page will say so")
    try:
        server = make_server(checkpoint=checkpoint, port=port, verbose=True, gpt=gpt)
    except (FileNotFoundError, ValueError) as error:
        fail(str(error))
    except OSError as error:
        fail(f"--port: cannot listen on 127.0.0.1:{port} ({error.strerror})")
    for given, source in ((checkpoint, "translation"), (gpt, "gpt")):
        if given is None:
            continue
        try:
            server.app.sources[source].load()  # a bad checkpoint fails now, not in the page
        except SourceUnavailableError as error:
            server.server_close()
            fail(str(error))
    console.print(f"attention explorer on [bold]{server.url}[/bold] (Ctrl-C to stop)")
    if open_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        server.server_close()
