"""What every experiment shares: a result that serialises to JSON, and a progress bar."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclasses.dataclass
class ExperimentResult:
    """Base class of experiment results: plain numbers only, plus a figure."""

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready plain data (NaN and inf become None)."""
        return _plain(dataclasses.asdict(self))

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    def plot(self):  # -> matplotlib.figure.Figure
        raise NotImplementedError(f"{type(self).__name__} has no plot()")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return _plain(value.item())
    return value


def progress(
    iterable: Iterable[T], *, total: int | None = None, description: str = "", enabled: bool = True
) -> Iterator[T]:
    """Iterate with a rich progress bar (silent when ``enabled`` is False)."""
    if not enabled:
        yield from iterable
        return
    from rich.progress import track

    yield from track(iterable, total=total, description=description, transient=True)
