"""jupyterquiz JSON: write the bank (`to_jupyterquiz`) and check a file (`parse_jupyterquiz`).

Types multiple_choice, many_choice, numeric and string; the extra keys ``id``, ``objectives``,
``points`` and ``explanation`` are ignored by jupyterquiz and make the file round-trip.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from attention_lab.assessment._markup import paragraph
from attention_lab.assessment.figures import figure_data_uri
from attention_lab.assessment.schema import Question


def to_jupyterquiz(questions: Sequence[Question]) -> list[dict]:
    out = []
    for q in questions:
        text = paragraph(q.prompt)
        if q.figure:
            text += f'<br><img alt="attention heatmap" src="{figure_data_uri(q.figure)}"/>'
        item: dict = {"question": text}
        if q.type in ("single", "multiple"):
            item["type"] = "multiple_choice" if q.type == "single" else "many_choice"
            item["answers"] = [
                {"answer": c.text, "correct": c.correct, "feedback": c.feedback} for c in q.choices
            ]
        elif q.type == "numeric":
            item["type"] = "numeric"
            right = {"correct": True, "feedback": q.feedback_correct}
            if q.tolerance > 0:
                # jupyterquiz ranges are [A, B): widen B by a hair so the upper bound counts.
                upper = q.answer + q.tolerance + 1e-12 * max(1.0, abs(q.answer))
                right |= {"type": "range", "range": [q.answer - q.tolerance, upper]}
            else:
                right |= {"type": "value", "value": q.answer}
            answers = [right]
            for w in q.wrong_answers:
                wrong = {"correct": False, "feedback": w.feedback}
                if w.tolerance > 0:
                    wrong |= {
                        "type": "range",
                        "range": [w.value - w.tolerance, w.value + w.tolerance],
                    }
                else:
                    wrong |= {"type": "value", "value": w.value}
                answers.append(wrong)
            answers.append({"type": "default", "feedback": q.feedback_incorrect})
            item["answers"] = answers
        else:
            item["type"] = "string"
            item["answers"] = [
                {"answer": a, "correct": True, "match_case": False, "feedback": q.feedback_correct}
                for a in q.accept
            ] + [
                {
                    "answer": str(w.value),
                    "correct": False,
                    "match_case": False,
                    "feedback": w.feedback,
                }
                for w in q.wrong_answers
            ]
            item["default_feedback"] = q.feedback_incorrect  # ignored by older jupyterquiz
        item |= {
            "id": q.id,
            "objectives": list(q.objectives),
            "points": q.points,
            "explanation": paragraph(q.explanation),
        }
        out.append(item)
    return out


JUPYTERQUIZ_TYPES = ("multiple_choice", "many_choice", "numeric", "string")


def parse_jupyterquiz(text: str) -> list[dict]:
    """Load and check a jupyterquiz JSON file (the fields jupyterquiz itself requires)."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("jupyterquiz JSON: expected a list of questions")
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise ValueError(f"jupyterquiz question {index}: missing 'question' text")
        if item.get("type") not in JUPYTERQUIZ_TYPES:
            raise ValueError(f"jupyterquiz question {index}: type {item.get('type')!r} unknown")
        answers = item.get("answers")
        if not isinstance(answers, list) or not answers:
            raise ValueError(f"jupyterquiz question {index}: missing 'answers'")
        for answer in answers:
            if item["type"] == "numeric":
                kind = answer.get("type")
                if kind not in ("value", "range", "default"):
                    raise ValueError(f"jupyterquiz question {index}: answer type {kind!r}")
            elif "answer" not in answer or "correct" not in answer:
                raise ValueError(f"jupyterquiz question {index}: answers need answer and correct")
    return data
