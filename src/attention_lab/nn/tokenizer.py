"""WordPiece tokenization for BERT-style models, read from a Hugging Face ``tokenizer.json``.

The ``tokenizers`` library does the work (lower-casing, splitting on punctuation, WordPiece
sub-words such as ``"tired" -> "tire", "##d"`` when a word is not in the vocabulary, and the
``[CLS] sentence [SEP]`` template of Devlin et al. 2019, section 3). This module fixes the two
things a learner must control: how long a sequence may be (BERT has 512 learned positions) and
how a batch is padded (to its longest sentence, with an attention mask marking the real tokens).

Shape legend: B batch (sentences), T tokens of the longest sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer
from torch import Tensor

from attention_lab.nn._checks import (
    check_file,
    check_special_token,
    check_tokenizer_args,
    check_tokenizer_call,
)


@dataclass(frozen=True)
class TokenBatch:
    """A padded batch of tokenized sentences.

    ``input_ids``, ``attention_mask`` (1 = real token, 0 = padding) and ``token_type_ids`` are
    ``(B, T)`` int64 tensors, the inputs a BERT takes. ``tokens[b]`` lists sentence b's real
    tokens (no padding); ``truncated[b]`` says whether sentence b was cut to ``max_len`` tokens,
    and ``num_tokens[b]`` how many tokens it had before the cut.
    """

    input_ids: Tensor
    attention_mask: Tensor
    token_type_ids: Tensor
    tokens: list[list[str]]
    truncated: list[bool]
    num_tokens: list[int]

    @property
    def any_truncated(self) -> bool:
        return any(self.truncated)


class BertTokenizer:
    """Text -> token ids for a BERT-style model: ``[CLS] word pieces [SEP]`` (plus padding).

    Example, with all-MiniLM-L6-v2's vocabulary::

        >>> tok = BertTokenizer.from_file(folder / "tokenizer.json")
        >>> tok(["The cat sat.", "Hi"]).tokens
        [['[CLS]', 'the', 'cat', 'sat', '.', '[SEP]'], ['[CLS]', 'hi', '[SEP]']]
    """

    def __init__(self, tokenizer: object, max_len: int = 512):
        check_tokenizer_args(tokenizer, max_len, Tokenizer)
        self.max_len = max_len
        self._tokenizer = tokenizer
        # tokenizer.json files often fix their own padding and truncation (MiniLM's pad every
        # sentence to 128): switch both off and do them here, where they are visible.
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.pad_id = self._special_id("[PAD]")
        self.cls_id = self._special_id("[CLS]")
        self.sep_id = self._special_id("[SEP]")

    @classmethod
    def from_file(cls, path: str | Path, max_len: int = 512) -> BertTokenizer:
        """Read a Hugging Face ``tokenizer.json``."""
        check_file("path", path, "a tokenizer.json file")
        return cls(Tokenizer.from_file(str(path)), max_len=max_len)

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size()

    def __call__(self, texts: str | Sequence[str], max_len: int | None = None) -> TokenBatch:
        """Tokenize one sentence or a list of them into a padded ``TokenBatch``.

        Sentences longer than ``max_len`` tokens (default ``self.max_len``) are cut to
        ``[CLS] first max_len - 2 pieces [SEP]`` and flagged in ``TokenBatch.truncated``.
        """
        max_len = self.max_len if max_len is None else max_len
        texts = check_tokenizer_call(texts, max_len)  # one sentence becomes a list of one
        full = self._tokenizer.encode_batch(texts)
        self._tokenizer.enable_truncation(max_length=max_len)
        try:
            cut = self._tokenizer.encode_batch(texts)
        finally:
            self._tokenizer.no_truncation()

        T = max(len(e.ids) for e in cut)
        B = len(texts)
        input_ids = torch.full((B, T), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros(B, T, dtype=torch.long)
        token_type_ids = torch.zeros(B, T, dtype=torch.long)
        for b, encoding in enumerate(cut):
            n = len(encoding.ids)
            input_ids[b, :n] = torch.tensor(encoding.ids)
            attention_mask[b, :n] = 1
            token_type_ids[b, :n] = torch.tensor(encoding.type_ids)
        return TokenBatch(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            tokens=[list(e.tokens) for e in cut],
            truncated=[len(f.ids) > len(c.ids) for f, c in zip(full, cut)],
            num_tokens=[len(f.ids) for f in full],
        )

    def decode(self, ids: Sequence[int] | Tensor) -> str:
        """Token ids back to text (special tokens and padding dropped)."""
        if isinstance(ids, Tensor):
            ids = ids.tolist()
        return self._tokenizer.decode(list(ids), skip_special_tokens=True)

    def _special_id(self, token: str) -> int:
        token_id = self._tokenizer.token_to_id(token)
        check_special_token(token, token_id)
        return token_id
