"""The models the explorer can show, each behind the same small interface.

A source turns a sentence into one or more *stacks* of attention: MiniLM has one (encoder
self-attention); an encoder-decoder translation model has three (encoder self-attention, masked
decoder self-attention, cross-attention). Models load on first use and stay in memory.

Shape legend: L layers, H heads, T_q queries, T_k keys.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from attention_lab.experiments.char_gpt import load_char_gpt, visible_characters
from attention_lab.explorer.neuron import capture_queries_and_keys, stacked
from attention_lab.explorer.summaries import HeadSummary, head_summaries
from attention_lab.nn.bert import load_minilm, sentence_attention
from attention_lab.nn.multihead import use_readable_attention
from attention_lab.translator import cross_attention, load_translator


class SourceUnavailableError(RuntimeError):
    """The model cannot be loaded (its package is missing, its checkpoint unreadable...)."""


@dataclass(frozen=True)
class Stack:
    """One kind of attention of a model, in every layer and head."""

    id: str  # "self", "encoder", "decoder", "cross"
    label: str  # what the page shows
    query_tokens: list[str]
    key_tokens: list[str]
    weights: Tensor  # (L, H, T_q, T_k)
    summaries: list[list[HeadSummary]]  # L x H
    queries: Tensor | None = None  # (L, H, T_q, d_k): the query vectors, for the query/key view
    keys: Tensor | None = None  # (L, H, T_k, d_k)
    causal: bool = False  # query i may attend to keys 0..i only


@dataclass(frozen=True)
class Analysis:
    """Everything the explorer shows for one input text."""

    stacks: list[Stack]
    truncated: bool = False  # the input was cut to max_tokens
    num_tokens: int = 0  # input tokens before any cut
    max_tokens: int = 0
    output_text: str | None = None  # what a translation model produced
    notes: list[str] = field(default_factory=list)
    next_token_logits: Tensor | None = None  # (V,): a language model's prediction after the text
    vocabulary: list[str] | None = None  # the V tokens those logits score

    def stack(self, stack_id: str) -> Stack:
        for stack in self.stacks:
            if stack.id == stack_id:
                return stack
        known = ", ".join(repr(s.id) for s in self.stacks)
        raise KeyError(f"stack: expected one of {known}, got {stack_id!r}")


class AttentionSource:
    """Base class: a named model that analyses text, loaded lazily, with a small result cache."""

    id = ""
    label = ""
    start_token = ""
    end_token = ""
    cache_size = 16
    predicts_next_token = False  # a language model: the page shows its next-token probabilities

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: Any = None
        self._cache: OrderedDict[str, Analysis] = OrderedDict()

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "start": self.start_token,
            "end": self.end_token,
            "predicts_next_token": self.predicts_next_token,
        }

    def load(self) -> None:
        """Load the model now (it otherwise loads on the first request)."""
        with self._lock:
            self._ensure_loaded()

    def _ensure_loaded(self) -> Any:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def analyze(self, text: str) -> Analysis:
        """Attention of every layer and head for ``text`` (torch runs one request at a time)."""
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
            analysis = self._analyze(self._ensure_loaded(), text)
            self._cache[text] = analysis
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
            return analysis

    def _load(self) -> Any:
        raise NotImplementedError

    def _analyze(self, loaded: Any, text: str) -> Analysis:
        raise NotImplementedError

    def _stack(
        self,
        stack_id: str,
        label: str,
        queries: list[str],
        keys: list[str],
        weights: Tensor,
        vectors: tuple[Tensor, Tensor] | None = None,
        causal: bool = False,
    ) -> Stack:
        """``vectors``: the ``(L, H, T_q, d_k)`` queries and ``(L, H, T_k, d_k)`` keys."""
        is_self = stack_id != "cross"
        summaries = head_summaries(
            weights,
            keys,
            start_token=self.start_token,
            end_token=self.end_token,
            self_attention=is_self,
        )
        q, k = vectors if vectors is not None else (None, None)
        return Stack(stack_id, label, queries, keys, weights, summaries, q, k, causal)


class MiniLMSource(AttentionSource):
    """all-MiniLM-L6-v2 running in our own ``BertEncoder``."""

    id = "minilm"
    label = "all-MiniLM-L6-v2 (BERT encoder, 6 layers x 12 heads)"
    start_token = "[CLS]"
    end_token = "[SEP]"

    def _load(self) -> Any:
        try:
            return load_minilm()
        except ModuleNotFoundError as error:
            raise SourceUnavailableError(str(error)) from None

    def _analyze(self, loaded: Any, text: str) -> Analysis:
        model, tokenizer = loaded
        with capture_queries_and_keys([layer.self_attn for layer in model.layers]) as captured:
            result = sentence_attention(model, tokenizer, text)
        stack = self._stack(
            "self", "Self-attention", result.tokens, result.tokens, result.weights,
            stacked(captured),
        )  # fmt: skip
        max_tokens = model.config.max_len
        notes = []
        if result.truncated:
            notes.append(
                f"The text has {result.num_tokens} tokens; MiniLM reads at most {max_tokens} "
                f"(its learned positions), so it was cut to the first {max_tokens}."
            )
        return Analysis([stack], result.truncated, result.num_tokens, max_tokens, notes=notes)


class TranslationSource(AttentionSource):
    """The encoder-decoder of Lab 3.3 (number words -> digits), from a saved checkpoint.

    The model translates greedily, then runs once more on its own output with every layer keeping
    its weights: encoder self-attention over the source words, the decoder's masked
    self-attention over ``<bos> y_1 .. y_n``, and cross-attention from each decoder step to the
    source (rows labelled by the token that step produced).
    """

    id = "translation"
    start_token = "<bos>"
    end_token = "<eos>"

    def __init__(self, checkpoint: str | Path):
        super().__init__()
        self.checkpoint = Path(checkpoint)
        if not self.checkpoint.is_file():
            raise FileNotFoundError(
                f"checkpoint: expected a translation model file written by `attention-lab train` "
                f"or `attention-lab run translation --checkpoint`, got {str(self.checkpoint)!r}"
            )
        self.label = f"Lab 3.3 translation model ({self.checkpoint.name})"

    def _load(self) -> Any:
        try:
            translator = load_translator(self.checkpoint)
        except (ValueError, OSError) as error:
            raise SourceUnavailableError(str(error)) from None
        use_readable_attention(translator.model)  # the readable layers keep their weights
        return translator

    def _analyze(self, loaded: Any, text: str) -> Analysis:
        translator = loaded
        model = translator.model
        encoder_attn = [layer.self_attn for layer in model.encoder.layers]
        decoder_attn = [layer.self_attn for layer in model.decoder.layers]
        cross_attn = [layer.cross_attn for layer in model.decoder.layers]
        with (
            capture_queries_and_keys(encoder_attn) as encoder_qk,
            capture_queries_and_keys(decoder_attn) as decoder_qk,
            capture_queries_and_keys(cross_attn) as cross_qk,
        ):  # the last call of each layer is the run that keeps the weights
            result = cross_attention(translator, text)
        encoder = torch.stack([layer.self_attn.attn_weights[0] for layer in model.encoder.layers])
        decoder = torch.stack([layer.self_attn.attn_weights[0] for layer in model.decoder.layers])
        decoder_inputs = ["<bos>", *result.output[:-1]]  # the decoder read <bos> y_1 .. y_n
        stacks = [
            self._stack(
                "encoder",
                "Encoder self-attention",
                result.source,
                result.source,
                encoder.cpu(),
                stacked(encoder_qk),
            ),
            self._stack(
                "decoder",
                "Decoder masked self-attention",
                decoder_inputs,
                decoder_inputs,
                decoder.cpu(),
                stacked(decoder_qk),
                causal=True,
            ),
            self._stack(
                "cross",
                "Cross-attention (row = the token that step produced)",
                result.output,
                result.source,
                result.weights,
                stacked(cross_qk),
            ),
        ]
        output_text = translator.tokenizer.decode(
            [translator.tokenizer.vocabulary.index(t) for t in result.output[:-1]]
        )
        return Analysis(stacks, num_tokens=len(result.source), output_text=output_text)


class GPTSource(AttentionSource):
    """The character-level GPT of ``attention-lab run gpt --checkpoint FILE``: its causal
    self-attention over the text, and its prediction of the next character."""

    id = "gpt"
    start_token = ""
    end_token = ""
    predicts_next_token = True

    def __init__(self, checkpoint: str | Path):
        super().__init__()
        self.checkpoint = Path(checkpoint)
        if not self.checkpoint.is_file():
            raise FileNotFoundError(
                f"gpt: expected a model file written by `attention-lab run gpt --checkpoint FILE`, "
                f"got {str(self.checkpoint)!r}"
            )
        self.label = f"character-level GPT ({self.checkpoint.name})"

    def _load(self) -> Any:
        try:
            return load_char_gpt(self.checkpoint)
        except (ValueError, OSError) as error:
            raise SourceUnavailableError(str(error)) from None

    def _analyze(self, loaded: Any, text: str) -> Analysis:
        gpt = loaded
        limit = gpt.model.config.context_length
        ids = gpt.tokenizer.encode(text)  # unknown characters: a ValueError that names them
        notes = []
        if len(ids) > limit:
            notes.append(
                f"The text has {len(ids)} characters; this GPT reads at most {limit} (its learned "
                f"positions), so it reads the last {limit}."
            )
            ids = ids[-limit:]
        blocks = [layer.self_attn for layer in gpt.model.stack.layers]
        with torch.no_grad(), capture_queries_and_keys(blocks) as captured:
            logits = gpt.model(ids[None])[0, -1]  # (1, T, V) -> (V,): after the last character
        weights = gpt.model.attention_weights()[:, 0]  # (L, 1, H, T, T) -> (L, H, T, T)
        tokens = visible_characters(gpt.tokenizer.decode(ids))
        stack = self._stack(
            "self", "Causal self-attention", tokens, tokens, weights, stacked(captured),
            causal=True,
        )  # fmt: skip
        return Analysis(
            [stack], len(notes) > 0, len(gpt.tokenizer.encode(text)), limit, notes=notes,
            next_token_logits=logits, vocabulary=visible_characters("".join(gpt.tokenizer.vocabulary)),
        )  # fmt: skip
