"""The progress bar of a run: loss, accuracy, tokens/s and the last evaluation (rank 0 only)."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class TrainingProgress:
    """A rich progress bar, or nothing at all when ``enabled`` is false."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            return
        self.progress = Progress(
            TextColumn("train"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"), transient=False,
        )  # fmt: skip
        self.task = self.progress.add_task("train", total=total, status="")

    def __enter__(self) -> TrainingProgress:
        if self.enabled:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.__exit__(*exc)

    def update(self, step: int, record: dict[str, float], metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
        parts = []
        if record:
            parts.append(
                f"loss {record['loss']:.3f}  acc {record['accuracy']:.1%}  "
                f"{record['tokens_per_second']:,.0f} tok/s"
            )
        parts += [f"{k} {v:.3f}" for k, v in metrics.items()]
        self.progress.update(self.task, completed=step, status="  ".join(parts))
