"""Seeded synthetic tasks, one family per file. Each documents one worked example of its encoding."""

from attention_lab.tasks.agreement import (
    AGREEMENT_VERBS,
    AGREEMENT_VOCAB,
    AgreementBatch,
    agreement_task,
    decode_agreement,
)
from attention_lab.tasks.numbers import NumberTranslation, number_to_words, words_to_number
from attention_lab.tasks.numbers import Tokenizer as NumberTokenizer
from attention_lab.tasks.patterns import PatternBatch, PatternTask
from attention_lab.tasks.sequences import (
    SEQUENCE_TASKS,
    SequenceTask,
    counting_labels,
    reversal_labels,
    sorting_labels,
)

__all__ = [
    "AGREEMENT_VERBS",
    "AGREEMENT_VOCAB",
    "SEQUENCE_TASKS",
    "AgreementBatch",
    "NumberTokenizer",
    "NumberTranslation",
    "PatternBatch",
    "PatternTask",
    "SequenceTask",
    "agreement_task",
    "counting_labels",
    "decode_agreement",
    "number_to_words",
    "reversal_labels",
    "sorting_labels",
    "words_to_number",
]
