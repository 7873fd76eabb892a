"""Run a learner's function or class on one exercise case and collect what it returns.

This file stands alone: it imports only the standard library and torch, and holds no reference
answer. The batch grader copies it next to a submission and runs it in a sandboxed process where
``attention_lab`` cannot be imported; the in-notebook checks import it directly.

A case says how to call the target with a JSON-serialisable ``call`` description::

    {"kind": "function", "args": ["q", "k", "v"], "outputs": ["output", "weights"]}
    {"kind": "function", "args": [{"const": 5, "name": "T"}], "outputs": ["mask"]}
    {"kind": "class", "init": {"d_model": 16, "num_heads": 4}, "load_state": "weights.",
     "method": "forward", "args": ["query", "key", "value"], "outputs": ["output"]}

An argument is the name of an input tensor or ``{"const": value}`` (an optional ``"name"`` key
only labels it in messages). For a class, the target is
built with ``init`` as keyword arguments, the inputs whose names start with ``load_state`` are
loaded into it with ``load_state_dict`` (strict), and ``method`` is called. ``outputs`` names the
returned values: one name means one tensor, several mean a tuple of that many tensors.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

INPUT_COPY_PREFIX = "inputs_after."  # outputs[INPUT_COPY_PREFIX + name]: the input after the call


class WrongTargetError(TypeError):
    """The name holds the wrong kind of object: not a function, or not an nn.Module class."""


class BadReturnValueError(TypeError):
    """The target returned something other than the tensors the exercise asks for."""


class ParameterMismatchError(RuntimeError):
    """The module's parameters do not have the names or shapes the exercise asks for."""


def call_target(
    target: object, call: dict, inputs: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Call ``target`` as ``call`` describes, on copies of ``inputs``.

    Returns the named output tensors (detached, contiguous CPU copies) plus, under
    ``INPUT_COPY_PREFIX + name``, each input as it was after the call. Raises whatever the target
    raises; :class:`BadReturnValueError` or :class:`ParameterMismatchError` when what it returns or holds
    does not fit the exercise; :class:`WrongTargetError` when ``target`` is not the kind of object
    the call needs (a function, or an nn.Module class).
    """
    passed = {name: tensor.clone() for name, tensor in inputs.items()}
    args = [_argument(spec, passed) for spec in call.get("args", [])]
    kwargs = {key: _argument(spec, passed) for key, spec in call.get("kwargs", {}).items()}
    kind = call.get("kind")
    with torch.no_grad():
        if kind == "function":
            if isinstance(target, type) or not callable(target):
                raise WrongTargetError(f"expected a function, got {_describe(target)}")
            result = target(*args, **kwargs)
        elif kind == "class":
            result = _call_module(target, call, passed, args, kwargs)
        else:
            raise ValueError(f"call: expected kind 'function' or 'class', got {kind!r}")
    outputs = _name_outputs(result, list(call["outputs"]))
    for name in inputs:
        outputs[INPUT_COPY_PREFIX + name] = _copy(passed[name])
    return outputs


def _argument(spec: Any, passed: dict[str, torch.Tensor]) -> Any:
    if isinstance(spec, dict):
        return spec["const"]
    return passed[spec]


def _call_module(
    target: object, call: dict, passed: dict[str, torch.Tensor], args: list, kwargs: dict
) -> Any:
    if not isinstance(target, type):
        raise WrongTargetError(f"expected a class (an nn.Module subclass), got {_describe(target)}")
    module = target(**call.get("init", {}))
    prefix = call.get("load_state")
    if prefix is not None:
        if not isinstance(module, torch.nn.Module):
            raise WrongTargetError(
                f"expected a class (an nn.Module subclass), got the class {target.__name__}, "
                f"which does not subclass torch.nn.Module, so its weights cannot be loaded"
            )
        state = {key[len(prefix) :]: t for key, t in passed.items() if key.startswith(prefix)}
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError:  # missing, unexpected or misshapen parameters
            raise ParameterMismatchError(
                f"expected parameters {_shapes(state)}; {target.__name__} has "
                f"{_shapes(module.state_dict()) or 'none'}"
            ) from None
    if isinstance(module, torch.nn.Module):
        module.eval()  # no dropout while checking
    method = call.get("method", "forward")
    if method == "forward" and isinstance(module, torch.nn.Module):
        return module(*args, **kwargs)
    return getattr(module, method)(*args, **kwargs)


def _name_outputs(result: Any, names: list[str]) -> dict[str, torch.Tensor]:
    if len(names) == 1:
        if not isinstance(result, torch.Tensor):
            raise BadReturnValueError(f"expected one tensor ({names[0]}), got {_describe(result)}")
        return {names[0]: _copy(result)}
    wanted = f"a tuple of {len(names)} tensors ({', '.join(names)})"
    if not isinstance(result, (tuple, list)):
        raise BadReturnValueError(f"expected {wanted}, got {_describe(result)}")
    if len(result) != len(names):
        raise BadReturnValueError(
            f"expected {wanted}, got a {type(result).__name__} of {len(result)}"
        )
    for name, value in zip(names, result):
        if not isinstance(value, torch.Tensor):
            raise BadReturnValueError(f"expected {wanted}, got {_describe(value)} for {name}")
    return {name: _copy(value) for name, value in zip(names, result)}


def _copy(tensor: torch.Tensor) -> torch.Tensor:
    # a plain tensor (a subclass could override comparisons), contiguous, unshared and on the
    # CPU, so the grader can save it with safetensors
    return tensor.as_subclass(torch.Tensor).detach().to("cpu").contiguous().clone()


def _shapes(state: dict[str, torch.Tensor]) -> str:
    return ", ".join(f"{name} {tuple(t.shape)}" for name, t in state.items())


def _describe(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, type):
        return f"the class {value.__name__}"
    if inspect.isfunction(value):
        return f"the function {value.__name__}"
    return f"{type(value).__name__} {value!r}"[:120]
