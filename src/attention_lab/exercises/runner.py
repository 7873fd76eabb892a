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

Before calling, the target's signature is checked against the call (a mismatch is its own error,
not a crash deep inside the learner's code), and the target is called twice on fresh copies of
the inputs: two different answers mean randomness, such as dropout, left on while checking.
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


class SignatureMismatchError(TypeError):
    """The constructor, forward or function cannot take the arguments the exercise passes."""


class NondeterministicError(RuntimeError):
    """Two calls with the same inputs (in eval mode for a module) returned different tensors."""


def call_target(
    target: object, call: dict, inputs: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Call ``target`` as ``call`` describes, on copies of ``inputs``.

    The target is called twice on fresh copies (a module once built, in eval mode), so that
    dropout left on shows. Returns the named output tensors of the first call (detached,
    contiguous CPU copies) plus, under ``INPUT_COPY_PREFIX + name``, each input as it was after
    that call. Raises whatever the target raises; :class:`BadReturnValueError` or
    :class:`ParameterMismatchError` when what it returns or holds does not fit the exercise;
    :class:`SignatureMismatchError` when it cannot take the exercise's arguments;
    :class:`NondeterministicError` when the two calls disagree; :class:`WrongTargetError` when
    ``target`` is not the kind of object the call needs (a function, or an nn.Module class).
    """
    kind = call.get("kind")
    names = list(call["outputs"])
    with torch.no_grad():
        if kind == "function":
            if isinstance(target, type) or not callable(target):
                raise WrongTargetError(f"expected a function, got {_describe(target)}")
            function = target
            _check_call(function, call, "the function")
        elif kind == "class":
            function = _build_module(target, call, inputs)
            method = getattr(function, "forward", function)  # a module's own signature
            _check_call(method, call, f"{call.get('method', 'forward')}()")
        else:
            raise ValueError(f"call: expected kind 'function' or 'class', got {kind!r}")
        passed, outputs = _call_once(function, call, inputs, names)
        _, again = _call_once(function, call, inputs, names)
    for name in names:
        if not _identical(outputs[name], again[name]):
            raise NondeterministicError(
                f"two calls with the same inputs gave different {name} tensors"
                + (" in eval mode" if kind == "class" else "")
            )
    for name in inputs:
        outputs[INPUT_COPY_PREFIX + name] = _copy(passed[name])
    return outputs


def _call_once(
    function: Any, call: dict, inputs: dict[str, torch.Tensor], names: list[str]
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    passed = {name: tensor.clone() for name, tensor in inputs.items()}
    args = [_argument(spec, passed) for spec in call.get("args", [])]
    kwargs = {key: _argument(spec, passed) for key, spec in call.get("kwargs", {}).items()}
    return passed, _name_outputs(function(*args, **kwargs), names)


def _identical(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not a.is_floating_point():
        return torch.equal(a, b)
    return bool(torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num()))


def _signature(function: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):  # builtins and odd callables: let the call itself tell
        return None


def _check_call(function: Any, call: dict, what: str) -> None:
    """Raise SignatureMismatchError when ``function`` cannot take the call's arguments."""
    signature = _signature(function)
    if signature is None:
        return
    args = call.get("args", [])
    kwargs = call.get("kwargs", {})
    try:
        signature.bind(*args, **kwargs)
    except TypeError as error:
        shown = [spec if isinstance(spec, str) else spec.get("name", "value") for spec in args]
        shown += [f"{key}={key}" for key in kwargs]
        raise SignatureMismatchError(
            f"{what} is called with {len(args)} positional argument(s) ({', '.join(shown)}), "
            f"but its signature {signature} cannot take them ({error})"
        ) from None


def _argument(spec: Any, passed: dict[str, torch.Tensor]) -> Any:
    if isinstance(spec, dict):
        return spec["const"]
    return passed[spec]


def _build_module(target: object, call: dict, inputs: dict[str, torch.Tensor]) -> Any:
    """The module built with ``init``, its weights loaded, in eval mode; its ``method``."""
    if not isinstance(target, type):
        raise WrongTargetError(f"expected a class (an nn.Module subclass), got {_describe(target)}")
    init = call.get("init", {})
    signature = _signature(target)
    if signature is not None:
        try:
            signature.bind(**init)
        except TypeError as error:
            wanted = ", ".join(f"{key}={value!r}" for key, value in init.items())
            raise SignatureMismatchError(
                f"the constructor is called as {target.__name__}({wanted}), but "
                f"{target.__name__}{signature} cannot take that ({error})"
            ) from None
    module = target(**init)
    prefix = call.get("load_state")
    if prefix is not None:
        if not isinstance(module, torch.nn.Module):
            raise WrongTargetError(
                f"expected a class (an nn.Module subclass), got the class {target.__name__}, "
                f"which does not subclass torch.nn.Module, so its weights cannot be loaded"
            )
        state = {key[len(prefix) :]: t for key, t in inputs.items() if key.startswith(prefix)}
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
        return module
    return getattr(module, method)


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
    if isinstance(value, dict):
        return f"a dict with keys {', '.join(repr(key) for key in list(value)[:6])}"[:120]
    if isinstance(value, type):
        return f"the class {value.__name__}"
    if inspect.isfunction(value):
        return f"the function {value.__name__}"
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):  # a NumPy array or the like: its shape, not its values
        return f"an object of type {type(value).__name__} with shape {shape}"
    text = f"{type(value).__name__} {' '.join(repr(value).split())}"
    return text if len(text) <= 120 else text[:117].rsplit(" ", 1)[0] + " ..."
