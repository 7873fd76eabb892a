"""The syllabus' learning objectives with stable ids (data in objectives.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Objective:
    id: str  # "3.2.4"
    topic: str  # "3.2"
    text: str  # the syllabus' wording


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    duration: str
    objectives: tuple[Objective, ...]


@cache
def topics() -> tuple[Topic, ...]:
    raw = yaml.safe_load(resources.files(__package__).joinpath("objectives.yaml").read_text())
    return tuple(
        Topic(
            id=t["id"],
            title=t["title"],
            duration=t["duration"],
            objectives=tuple(Objective(o["id"], t["id"], o["text"]) for o in t["objectives"]),
        )
        for t in raw["topics"]
    )


def objectives() -> dict[str, Objective]:
    """Every objective by id, in syllabus order."""
    return {o.id: o for t in topics() for o in t.objectives}


def duration_minutes(topic: Topic) -> tuple[int, int]:
    """The syllabus' duration of ``topic`` as (shortest, longest) minutes: "1 - 1.5 hours" -> (60, 90)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*(?:-\s*([\d.]+)\s*)?hours?\s*", topic.duration)
    if match is None:
        raise ValueError(
            f"topic.duration: expected '<a> - <b> hours' or '<a> hours', got {topic.duration!r}"
        )
    low = float(match[1])
    high = float(match[2]) if match[2] else low
    return round(low * 60), round(high * 60)
