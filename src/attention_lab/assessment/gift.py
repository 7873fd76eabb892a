"""Moodle GIFT: write the bank (`to_gift`) and read GIFT back (`parse_gift`).

Format: https://docs.moodle.org/en/GIFT_format. Questions use [html] text (figures as PNG data
URIs); multiple choice carries Moodle's partial-credit weights; numeric and short answers end
with a catch-all answer that carries the "incorrect" feedback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from attention_lab.assessment._markup import QUIZ_TITLE, paragraph, prompt_html
from attention_lab.assessment.schema import Question


def _gift_escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def _gift_number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _gift_percent(fraction: float) -> str:
    return f"%{fraction * 100:.5f}".rstrip("0").rstrip(".") + "%"


def to_gift(questions: Sequence[Question]) -> str:
    """The questions in Moodle GIFT format (one $CATEGORY per topic)."""
    lines = [f"// {QUIZ_TITLE}", "// Generated from the attention-lab question bank.", ""]
    topic = None
    for q in questions:
        this_topic = q.objectives[0].rsplit(".", 1)[0]
        if this_topic != topic:
            topic = this_topic
            lines += [f"$CATEGORY: $course$/Module 3/Topic {topic}", ""]
        lines.append(f"// id: {q.id}; objectives: {' '.join(q.objectives)}; points: {q.points:g}")
        answers = []
        if q.type == "single":
            for c in q.choices:
                mark = "=" if c.correct else "~"
                answers.append(f"\t{mark}{_gift_escape(c.text)}#{_gift_escape(c.feedback)}")
        elif q.type == "multiple":
            n_right = len(q.correct_choices)
            for c in q.choices:
                weight = _gift_percent((1 if c.correct else -1) / n_right)
                answers.append(f"\t~{weight}{_gift_escape(c.text)}#{_gift_escape(c.feedback)}")
        elif q.type == "numeric":
            answers.append(
                f"\t={_gift_number(q.answer)}:{_gift_number(q.tolerance)}"
                f"#{_gift_escape(q.feedback_correct)}"
            )
            for w in q.wrong_answers:
                answers.append(
                    f"\t=%0%{_gift_number(w.value)}:{_gift_number(w.tolerance)}"
                    f"#{_gift_escape(w.feedback)}"
                )
            # A catch-all range after every specific answer: Moodle uses the first match.
            answers.append(
                f"\t=%0%{_gift_number(q.answer)}:1e+30#{_gift_escape(q.feedback_incorrect)}"
            )
        else:
            for accepted in q.accept:
                answers.append(f"\t={_gift_escape(accepted)}#{_gift_escape(q.feedback_correct)}")
            for w in q.wrong_answers:
                answers.append(f"\t=%0%{_gift_escape(str(w.value))}#{_gift_escape(w.feedback)}")
            answers.append(f"\t=%0%*#{_gift_escape(q.feedback_incorrect)}")
        answers.append(f"\t####{_gift_escape(paragraph(q.explanation))}")
        head = "#" if q.type == "numeric" else ""
        lines.append(f"::{_gift_escape(q.id)}::[html]{_gift_escape(prompt_html(q))}{{{head}")
        lines += answers
        lines += ["}", ""]
    return "\n".join(lines)


def _gift_unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _split_unescaped(text: str, chars: str) -> list[tuple[str, str]]:
    """Split at unescaped `chars`; returns [(delimiter, piece), ...] (first delimiter '')."""
    parts, current, delim, i = [], [], "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if text[i] in chars:
            parts.append((delim, "".join(current)))
            delim, current = text[i], []
        else:
            current.append(text[i])
        i += 1
    parts.append((delim, "".join(current)))
    return parts


def _find_unescaped(text: str, char: str, start: int = 0) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == char:
            return i
        i += 1
    return -1


def parse_gift(text: str) -> list[dict]:
    """Parse GIFT text into dicts: {id, format, text, kind, answers, general_feedback, meta}.

    `kind` is "choice" or "numeric"; each answer is {text|value, tolerance, weight, feedback,
    mark ('=' or '~')}. Follows the Moodle GIFT rules for escapes, comments and categories.
    """
    questions, meta = [], {}
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    for block in blocks:
        body_lines = []
        for line in block.split("\n"):
            stripped = line.strip()
            if stripped.startswith("//"):
                match = re.match(r"//\s*id: (\S+); objectives: ([^;]+); points: (\S+)", stripped)
                if match:
                    meta = {
                        "id": match[1],
                        "objectives": match[2].split(),
                        "points": float(match[3]),
                    }
                continue
            if stripped.startswith("$CATEGORY:"):
                continue
            body_lines.append(line)
        body = "\n".join(body_lines).strip()
        if not body:
            continue
        title = None
        if body.startswith("::"):
            end = body.index("::", 2)
            title = _gift_unescape(body[2:end])
            body = body[end + 2 :]
        fmt = "moodle"
        match = re.match(r"\[(html|markdown|plain|moodle)\]", body)
        if match:
            fmt, body = match[1], body[match.end() :]
        open_at = _find_unescaped(body, "{")
        close_at = _find_unescaped(body, "}", open_at + 1)
        if open_at < 0 or close_at < 0:
            raise ValueError(f"GIFT question {title!r}: no answer block {{...}}")
        question_text = _gift_unescape(body[:open_at].strip())
        inner = body[open_at + 1 : close_at]
        numeric = inner.lstrip().startswith("#") and not inner.lstrip().startswith("####")
        if numeric:
            inner = inner.lstrip()[1:]
        general = None
        general_at = inner.find("####")
        while general_at > 0 and inner[general_at - 1] == "\\":
            general_at = inner.find("####", general_at + 1)
        if general_at >= 0:
            general = _gift_unescape(inner[general_at + 4 :].strip())
            inner = inner[:general_at]
        answers = []
        for mark, piece in _split_unescaped(inner, "=~")[1:]:
            piece = piece.strip()
            weight = 1.0 if mark == "=" else 0.0
            match = re.match(r"%(-?[0-9.]+)%", piece)
            if match:
                weight, piece = float(match[1]) / 100, piece[match.end() :]
            fb_parts = _split_unescaped(piece, "#")
            answer_text = fb_parts[0][1].strip()
            feedback = _gift_unescape(fb_parts[1][1].strip()) if len(fb_parts) > 1 else ""
            answer = {"mark": mark, "weight": weight, "feedback": feedback}
            if numeric:
                value, _, tolerance = answer_text.partition(":")
                answer |= {"value": float(value), "tolerance": float(tolerance or 0)}
            else:
                answer["text"] = _gift_unescape(answer_text)
            answers.append(answer)
        questions.append(
            {
                "id": title,
                "format": fmt,
                "text": question_text,
                "kind": "numeric" if numeric else "choice",
                "answers": answers,
                "general_feedback": general,
                "meta": meta,
            }
        )
        meta = {}
    return questions
