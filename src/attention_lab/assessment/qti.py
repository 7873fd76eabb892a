"""Canvas QTI 1.2 through text2qti: write the bank (`to_qti`) and read the zip back (`parse_qti`).

Numeric bounds are written at full precision (text2qti rounds them to 4 decimals otherwise);
figures travel as PNG files inside the zip.
"""

from __future__ import annotations

import html
import io
import re
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree

from attention_lab.assessment._markup import QUIZ_TITLE, paragraph
from attention_lab.assessment.figures import figure_png
from attention_lab.assessment.schema import Question


def _qti_text(text: str) -> str:
    """Escape what text2qti's Markdown would misread ($ starts LaTeX, * and _ emphasis, quotes)."""
    text = " ".join(text.split())
    for char in "\\`*_$[]>":
        text = text.replace(char, "\\" + char)
    # Entities keep Python-Markdown's "smarty" extension from curling quotes in code.
    return text.replace("<", "&lt;").replace("'", "&#39;").replace('"', "&quot;")


def to_text2qti(questions: Sequence[Question], image_dir: Path) -> str:
    """The text2qti source for the questions; figures are written as PNGs into `image_dir`."""
    lines = [
        f"Quiz title: {QUIZ_TITLE}",
        "Quiz description: Generated from the attention-lab bank.",
        "",
    ]
    for number, q in enumerate(questions, start=1):
        lines.append(f"Title: {q.id}")
        lines.append(f"Points: {q.points:g}")
        prompt = " ".join(_qti_text(p) for p in paragraph(q.prompt).split("\n\n"))
        if q.figure:
            image = Path(image_dir).resolve() / f"{q.figure}.png"  # text2qti reads it from here
            image.write_bytes(figure_png(q.figure))
            prompt += f" ![attention heatmap]({image.as_posix()})"
        lines.append(f"{number}.  {prompt}")
        lines.append(f"... {_qti_text(paragraph(q.explanation))}")
        if q.type in ("numeric", "text"):
            lines.append(f"+   {_qti_text(q.feedback_correct)}")
            lines.append(f"-   {_qti_text(q.feedback_incorrect)}")
        if q.type == "single":
            for c in q.choices:
                lines.append(f"{'*' if c.correct else ''}{c.id})  {_qti_text(c.text)}")
                lines.append(f"... {_qti_text(c.feedback)}")
        elif q.type == "multiple":
            for c in q.choices:
                lines.append(f"{'[*]' if c.correct else '[ ]'} {_qti_text(c.text)}")
                lines.append(f"... {_qti_text(c.feedback)}")
        elif q.type == "numeric":
            if q.tolerance > 0:
                lines.append(f"=   {q.answer!r} +- {q.tolerance!r}")
            else:
                lines.append(f"=   [{q.answer!r}, {q.answer!r}]")
        else:
            for accepted in q.accept:  # text2qti takes short answers verbatim
                lines.append(f"*   {' '.join(accepted.split())}")
        lines.append("")
    return "\n".join(lines)


def to_qti(questions: Sequence[Question]) -> bytes:
    """A Canvas QTI 1.2 zip (bytes) built by text2qti."""
    from text2qti.config import Config
    from text2qti.qti import QTI
    from text2qti.quiz import Question as T2Question
    from text2qti.quiz import Quiz

    with tempfile.TemporaryDirectory(prefix="attention-lab-qti-") as tmp:
        source = to_text2qti(questions, Path(tmp))
        (Path(tmp) / "quiz.md").write_text(source, encoding="utf-8")
        config = Config()
        config.loaded_config_file = True  # never read or write ~/.text2qti.bespon
        quiz = Quiz(
            source, config=config, source_name=str(Path(tmp) / "quiz.md"), resource_path=tmp
        )
        for item in quiz.questions_and_delims:
            if isinstance(item, T2Question) and item.type == "numerical_question":
                # Full precision: text2qti would write 0.00495 as "0.0050".
                item.numerical_min_html_xml = repr(float(item.numerical_min))
                item.numerical_max_html_xml = repr(float(item.numerical_max))
                if getattr(item, "numerical_exact", None) is not None:
                    item.numerical_exact_html_xml = repr(float(item.numerical_exact))
        return QTI(quiz).zip_bytes()


def _strip_tags(markup: str) -> str:
    text = re.sub(r"<[^>]+>", " ", markup)
    return " ".join(html.unescape(text).split())


def parse_qti(data: bytes) -> list[dict]:
    """Read a QTI 1.2 zip back: [{title, type, text, points, choices: [{text, correct}],
    min, max (numerical), accept (short answer), images}]."""
    items = []
    with zipfile.ZipFile(_as_file(data)) as archive:
        names = archive.namelist()
        assessment = [
            n for n in names if n.endswith(".xml") and "/" in n and not n.endswith("_meta.xml")
        ]
        if len(assessment) != 1:
            raise ValueError(f"expected one assessment XML in the QTI zip, found {assessment}")
        root = ElementTree.fromstring(archive.read(assessment[0]))
        ns = {"q": root.tag.split("}")[0].strip("{")} if root.tag.startswith("{") else {}
        prefix = "q:" if ns else ""
        for item in root.iter(f"{{{ns['q']}}}item" if ns else "item"):
            fields = {}
            for field in item.iter(f"{{{ns['q']}}}qtimetadatafield" if ns else "qtimetadatafield"):
                label = field.find(f"{prefix}fieldlabel", ns).text
                entry = field.find(f"{prefix}fieldentry", ns).text
                fields[label] = entry
            presentation = item.find(f"{prefix}presentation", ns)
            text = presentation.find(f"{prefix}material/{prefix}mattext", ns).text or ""
            labels = {}
            for label in presentation.iter(
                f"{{{ns['q']}}}response_label" if ns else "response_label"
            ):
                mattext = label.find(f".//{prefix}mattext", ns)
                if mattext is not None:  # fill-in-the-blank labels carry no text
                    labels[label.get("ident")] = _strip_tags(mattext.text or "")
            correct, minimum, maximum, accept = set(), None, None, []
            for condition in item.iter(f"{{{ns['q']}}}respcondition" if ns else "respcondition"):
                setvar = condition.find(f"{prefix}setvar", ns)
                if setvar is None or float(setvar.text or 0) <= 0:
                    continue
                cond = condition.find(f"{prefix}conditionvar", ns)
                for equal in cond.iter(f"{{{ns['q']}}}varequal" if ns else "varequal"):
                    if fields.get("question_type") == "short_answer_question":
                        accept.append(equal.text)
                    elif fields.get("question_type") == "numerical_question":
                        minimum = maximum = float(equal.text)
                    else:
                        correct.add(equal.text)
                gte = cond.find(f".//{prefix}vargte", ns)
                lte = cond.find(f".//{prefix}varlte", ns)
                if gte is not None and lte is not None:
                    minimum, maximum = float(gte.text), float(lte.text)
                # multiple answers: correct = varequal inside <and>, excluding those under <not>
                for not_el in cond.iter(f"{{{ns['q']}}}not" if ns else "not"):
                    for equal in not_el.iter(f"{{{ns['q']}}}varequal" if ns else "varequal"):
                        correct.discard(equal.text)
            items.append(
                {
                    "title": item.get("title"),
                    "type": fields.get("question_type"),
                    "points": float(fields.get("points_possible", 0)),
                    "text": _strip_tags(text),
                    "html": text,
                    "choices": [{"text": t, "correct": i in correct} for i, t in labels.items()],
                    "min": minimum,
                    "max": maximum,
                    "accept": accept,
                }
            )
        images = [n for n in names if n.lower().endswith(".png")]
    for item in items:
        item["images"] = images
    return items


def _as_file(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)
