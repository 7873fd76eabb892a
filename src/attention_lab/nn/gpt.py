"""A decoder-only language model (GPT) built from our own blocks.

GPT (Radford et al. 2018, "Improving Language Understanding by Generative Pre-Training"; GPT-2,
Radford et al. 2019) keeps one stack of the Transformer and trains it to predict the next token.
It is the encoder stack of Vaswani et al. 2017 run under the decoder's causal mask (section 3.2.3),
with no cross-attention, because there is no source sentence to attend to:

    h_0 = E_token[x] + E_position[0..T-1]                 (learned positions, as GPT)
    h_l = EncoderLayer_l(h_{l-1}, causal mask),  l = 1..L  (pre-norm and GELU, as GPT-2)
    p(x_{t+1} | x_1..x_t) = softmax(LayerNorm(h_L) W_out)_t

So a GPT block is ``attention_lab.EncoderLayer`` with no changes, and the stack is our ``Encoder``
(with the final LayerNorm a pre-norm stack needs). ``GPT.from_torch`` copies a
``torch.nn.TransformerEncoder``: run with a causal mask it computes what our stack computes.

Shape legend: B batch, T tokens, D = d_model, V vocabulary size, L layers, H heads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attention_lab.nn._checks import check_positive_int, check_probability
from attention_lab.nn.blocks import ACTIVATIONS, EncoderLayer
from attention_lab.nn.masks import causal_mask
from attention_lab.nn.transformer import Encoder


@dataclass(frozen=True)
class GPTConfig:
    """Everything that defines a GPT's shape. Presets: ``GPT_PRESETS``."""

    vocab_size: int  # number of token ids (V)
    context_length: int = 128  # longest input it reads: one learned position per token
    d_model: int = 128  # width of every token vector (D)
    num_heads: int = 4  # attention heads per block (H); d_k = d_model / num_heads
    num_layers: int = 4  # blocks in the stack (L)
    d_ff: int = 512  # hidden width of the feed-forward network (4 D, as GPT)
    dropout: float = 0.0  # on embeddings, sub-layer outputs and attention weights (training only)
    activation: str = "gelu"  # GELU, as GPT; "relu" also works
    norm_first: bool = True  # pre-norm, as GPT-2 (False: post-norm, as GPT-1 and the paper)
    layer_norm_eps: float = 1e-5
    tie_weights: bool = (
        True  # the output layer reuses the token embedding matrix (Press & Wolf 2017)
    )

    def __post_init__(self) -> None:
        for name in ("vocab_size", "context_length", "d_model", "num_heads", "num_layers", "d_ff"):
            check_positive_int(name, getattr(self, name))
        check_probability("dropout", self.dropout)
        if self.d_model % self.num_heads != 0:
            raise ValueError(
                f"d_model: expected a multiple of num_heads={self.num_heads}, got {self.d_model}"
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation: expected one of {sorted(ACTIVATIONS)}, got {self.activation!r}"
            )


GPT_PRESETS: dict[str, GPTConfig] = {
    # a character-level model that trains in well under a minute on two CPU cores
    "char": GPTConfig(
        vocab_size=64, context_length=96, d_model=96, num_heads=4, num_layers=3, d_ff=384
    ),
    "tiny": GPTConfig(
        vocab_size=64, context_length=32, d_model=32, num_heads=2, num_layers=2, d_ff=64
    ),
    # GPT-2 small (Radford et al. 2019, Table 2): 12 layers, 768 wide, 124 M parameters
    "gpt2-small": GPTConfig(
        vocab_size=50257,
        context_length=1024,
        d_model=768,
        num_heads=12,
        num_layers=12,
        d_ff=3072,
        dropout=0.1,
    ),
}


class GPT(nn.Module):
    """Token and position embeddings, a causal stack of ``EncoderLayer``s, and the output layer."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"config: expected a GPTConfig, got {type(config).__name__}")
        self.config = c = config
        self.token_embed = nn.Embedding(c.vocab_size, c.d_model)
        self.position_embed = nn.Embedding(c.context_length, c.d_model)
        self.dropout = nn.Dropout(c.dropout)
        self.stack = Encoder(
            [
                EncoderLayer(
                    c.d_model,
                    c.num_heads,
                    c.d_ff,
                    c.dropout,
                    c.activation,
                    c.norm_first,
                    c.layer_norm_eps,
                )
                for _ in range(c.num_layers)
            ],
            nn.LayerNorm(c.d_model, eps=c.layer_norm_eps) if c.norm_first else None,
        )
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self._init_weights()
        if c.tie_weights:
            self.lm_head.weight = self.token_embed.weight  # one (V, D) matrix, read both ways

    def _init_weights(self) -> None:
        # GPT-2's initialisation: N(0, 0.02) for matrices and embeddings, zero biases
        for name, p in self.named_parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)
            elif name.endswith("bias") and "norm" not in name:
                nn.init.zeros_(p)

    def forward(self, tokens: Tensor) -> Tensor:
        """Token ids ``(B, T)`` -> next-token logits ``(B, T, V)``: row t predicts token t + 1."""
        self.check_tokens(tokens)
        T = tokens.shape[1]
        positions = torch.arange(T, device=tokens.device)  # (T,)
        x = self.token_embed(tokens) + self.position_embed(positions)  # (B, T, D) + (T, D)
        hidden = self.stack(self.dropout(x), causal_mask(T, tokens.device))  # (B, T, D)
        return self.lm_head(hidden)  # (B, T, D) @ (D, V) -> (B, T, V)

    def attention_weights(self) -> Tensor:
        """The weights of the last forward pass, every block: ``(L, B, H, T, T)``.

        Kept only on the readable attention path (the default; ``use_fast_attention`` drops them).
        """
        weights = [layer.self_attn.attn_weights for layer in self.stack.layers]
        if any(w is None for w in weights):
            raise ValueError(
                "attention weights: expected a forward pass first; call the model and ask again"
            )
        return torch.stack(weights)  # L x (B, H, T, T) -> (L, B, H, T, T)

    def check_tokens(self, tokens: object, name: str = "tokens") -> None:
        """Token ids must be an integer tensor ``(B, T)``, 1 <= T <= context_length, ids < V."""
        if not isinstance(tokens, Tensor):
            raise TypeError(
                f"{name}: expected a torch.Tensor of token ids, got {type(tokens).__name__}"
            )
        if tokens.is_floating_point() or tokens.is_complex() or tokens.dtype == torch.bool:
            raise TypeError(f"{name}: expected integer token ids, got dtype {tokens.dtype}")
        if tokens.dim() != 2:
            hint = "; add a batch dimension with tokens[None]" if tokens.dim() == 1 else ""
            raise ValueError(f"{name}: expected shape (B, T), got {tuple(tokens.shape)}{hint}")
        T, limit = tokens.shape[1], self.config.context_length
        if T == 0 or tokens.shape[0] == 0:
            raise ValueError(
                f"{name}: expected at least one token in every row (a prompt to continue), "
                f"got shape {tuple(tokens.shape)}"
            )
        if T > limit:
            raise ValueError(
                f"{name}: expected at most context_length={limit} tokens (one learned position "
                f"each), got {T}"
            )
        low, high = int(tokens.min()), int(tokens.max())
        if low < 0 or high >= self.config.vocab_size:
            raise ValueError(
                f"{name}: expected ids in [0, {self.config.vocab_size}) (the vocabulary), got ids "
                f"from {low} to {high}"
            )

    @torch.no_grad()
    def generate(
        self,
        tokens: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Continue ``tokens`` ``(B, T)`` by ``max_new_tokens`` sampled tokens: ``(B, T + n)``.

        Each step runs the model on everything so far, divides the last position's logits by
        ``temperature`` (below 1 sharpens the distribution, above 1 flattens it), keeps only the
        ``top_k`` most likely tokens if given (``top_k=1`` is greedy decoding), and samples from
        the softmax (Radford et al. 2019; Holtzman et al. 2020 on why truncation helps). The same
        ``generator`` seed (or ``torch.manual_seed``) gives the same text. The whole result must
        fit in ``context_length``: this model has no position beyond it.
        """
        self.check_tokens(tokens)
        check_positive_int("max_new_tokens", max_new_tokens)
        total, limit = tokens.shape[1] + max_new_tokens, self.config.context_length
        if total > limit:
            raise ValueError(
                f"max_new_tokens: expected at most {limit - tokens.shape[1]} (the prompt has "
                f"{tokens.shape[1]} tokens and context_length is {limit}), got {max_new_tokens}"
            )
        check_temperature(temperature)
        check_top_k(top_k, self.config.vocab_size)
        was_training = self.training
        self.eval()
        for _ in range(max_new_tokens):
            logits = self(tokens)[:, -1]  # (B, T, V) -> (B, V): the prediction for the next token
            probs = next_token_probabilities(logits, temperature, top_k)  # (B, V)
            next_token = torch.multinomial(probs, 1, generator=generator)  # (B, 1)
            tokens = torch.cat([tokens, next_token], dim=1)  # (B, t) -> (B, t + 1)
        self.train(was_training)
        return tokens

    @classmethod
    def from_torch(cls, module: nn.TransformerEncoder, vocab_size: int, context_length: int) -> GPT:
        """A GPT whose stack is a copy of ``torch.nn.TransformerEncoder`` ``module``.

        torch has no embeddings or output layer to copy: those stay freshly initialised. The
        ``final LayerNorm`` of a pre-norm GPT is ``module.norm`` (pass ``norm=nn.LayerNorm(D)`` to
        ``nn.TransformerEncoder``).
        """
        if not isinstance(module, nn.TransformerEncoder):
            raise TypeError(
                f"module: expected torch.nn.TransformerEncoder, got {type(module).__name__}"
            )
        first = module.layers[0]
        if first.norm_first != (module.norm is not None):
            raise ValueError(
                "module: expected a final LayerNorm (norm=...) exactly when the layers are "
                f"pre-norm, got norm_first={first.norm_first} and norm={module.norm!r}"
            )
        stack = Encoder.from_torch(module)
        config = GPTConfig(
            vocab_size=vocab_size,
            context_length=context_length,
            d_model=first.self_attn.embed_dim,
            num_heads=first.self_attn.num_heads,
            num_layers=len(module.layers),
            d_ff=first.linear1.out_features,
            dropout=first.dropout.p,
            activation=stack.layers[0].feed_forward.activation,
            norm_first=first.norm_first,
            layer_norm_eps=first.norm1.eps,
        )
        ours = cls(config).to(device=first.linear1.weight.device, dtype=first.linear1.weight.dtype)
        ours.stack = stack
        return ours


def check_temperature(temperature: object) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError(
            f"temperature: expected a positive number, got {type(temperature).__name__} "
            f"{temperature!r}"
        )
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(
            f"temperature: expected a positive finite number (1.0 samples from the model as it "
            f"is; use top_k=1 for greedy decoding), got {temperature}"
        )


def check_top_k(top_k: object, vocab_size: int) -> None:
    if top_k is None:
        return
    if isinstance(top_k, bool) or not isinstance(top_k, int):
        raise TypeError(f"top_k: expected None or an int, got {type(top_k).__name__} {top_k!r}")
    if not 1 <= top_k <= vocab_size:
        raise ValueError(
            f"top_k: expected None or an int in 1..{vocab_size} (the vocabulary), got {top_k}"
        )


def next_token_probabilities(
    logits: Tensor, temperature: float = 1.0, top_k: int | None = None
) -> Tensor:
    """``softmax(logits / temperature)`` over the ``top_k`` largest logits (0 elsewhere).

    ``logits`` ``(..., V)`` -> probabilities ``(..., V)`` that sum to 1. Ties at the k-th value
    are all kept, so the result does not depend on how a sort orders equal numbers.
    """
    check_temperature(temperature)
    check_top_k(top_k, logits.shape[-1])
    scaled = logits.float() / temperature  # (..., V)
    if top_k is not None:
        kth = torch.topk(scaled, top_k, dim=-1).values[..., -1:]  # (..., 1): the k-th largest
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return F.softmax(scaled, dim=-1)


def next_token_loss(model: GPT, tokens: Tensor, reduction: str = "mean") -> Tensor:
    """Cross-entropy (nats per token) of predicting ``tokens[:, 1:]`` from ``tokens[:, :-1]``.

    ``tokens`` ``(B, T + 1)``: every position is a training example (Radford et al. 2018, Eq. 1).
    ``reduction``: "mean" over the B * T predictions, or their "sum".
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction: expected 'mean' or 'sum', got {reduction!r}")
    logits = model(tokens[:, :-1])  # (B, T + 1) -> (B, T, V)
    return F.cross_entropy(  # (B*T, V) against (B*T,)
        logits.flatten(0, 1).float(), tokens[:, 1:].flatten(), reduction=reduction
    )
