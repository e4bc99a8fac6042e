"""Argument checks shared by every module.

Each check raises ``ValueError`` or ``TypeError`` with a message that names the
argument, the value that was given and what was expected, so that a reader who
passes a wrong shape learns what to change instead of meeting a NaN later.
"""
from __future__ import annotations

import math
import numbers

import torch

__all__ = [
    "check_positive_int",
    "check_nonnegative_int",
    "check_probability",
    "check_divisible",
    "check_choice",
    "check_tensor",
    "check_features",
    "check_input",
    "check_mask",
    "check_token_ids",
    "check_float_tensor",
    "check_same_device",
]


def check_positive_int(name: str, value) -> int:
    """Return ``value`` as an int if it is an integer > 0 (numpy integers too), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_nonnegative_int(name: str, value) -> int:
    """Return ``value`` as an int if it is an integer >= 0 (numpy integers too), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a non-negative int, got {value!r} of type {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value}")
    return int(value)


def check_probability(name: str, value) -> float:
    """Return ``value`` if it is a number in [0, 1), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float in [0, 1), got {value!r}")
    if not (math.isfinite(value) and 0.0 <= value < 1.0):
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def check_divisible(name: str, value: int, divisor_name: str, divisor: int) -> None:
    """Raise unless ``value`` is divisible by ``divisor``."""
    if value % divisor != 0:
        divisors = [d for d in range(1, value + 1) if value % d == 0]
        raise ValueError(
            f"{name}={value} must be divisible by {divisor_name}={divisor}; "
            f"{divisor_name} values that divide {value}: {divisors}"
        )


def check_choice(name: str, value, choices) -> None:
    """Raise unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def check_tensor(name: str, value, ndim_min: int | None = None, ndim: int | None = None) -> torch.Tensor:
    """Raise unless ``value`` is a tensor with the expected number of dimensions."""
    if not isinstance(value, torch.Tensor):
        hint = " (convert it with torch.as_tensor)" if isinstance(value, (list, tuple)) or hasattr(
            value, "__array__") else ""
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}{hint}")
    if ndim is not None and value.dim() != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(value.shape)}")
    if ndim_min is not None and value.dim() < ndim_min:
        raise ValueError(
            f"{name} must have at least {ndim_min} dimensions, got shape {tuple(value.shape)}"
        )
    return value


def check_features(name: str, x: torch.Tensor, width: int, what: str = "d_model") -> torch.Tensor:
    """Raise unless the last axis of ``x`` has ``width`` features (one message for every layer)."""
    if x.shape[-1] != width:
        raise ValueError(f"{name} must have {what}={width} features, got shape {tuple(x.shape)}")
    return x


def check_mask(mask, target_shape: tuple[int, ...], name: str = "mask", device=None) -> torch.Tensor:
    """Check a boolean attention mask against the scores' shape (and device).

    The book's one mask convention: boolean, ``True`` = this query may attend to
    this key, broadcastable to the scores' shape ``(..., T, S)``, usually
    ``(B, H, T, S)``. Build masks with :mod:`transformer_lib.masks`. Float and
    integer masks are refused, never converted: PyTorch's float masks are *added*
    to the scores (0 = attend, -inf = do not), the opposite reading of a 0/1 mask,
    so guessing would silently invert one of them.
    """
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{name} must be a boolean torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        hint = (" (an additive float mask m converts with m == 0; a 0/1 mask with m != 0)"
                if mask.dtype.is_floating_point else " (a 0/1 mask converts with m != 0)")
        raise TypeError(
            f"{name} must have dtype torch.bool (True = may attend), got {mask.dtype}{hint}; "
            "build masks with transformer_lib.causal_mask / padding_mask"
        )
    try:
        broadcast = torch.broadcast_shapes(mask.shape, target_shape)
    except RuntimeError:
        broadcast = None
    if broadcast != torch.Size(target_shape):
        raise ValueError(
            f"{name} of shape {tuple(mask.shape)} does not broadcast to the attention scores' "
            f"shape {tuple(target_shape)} (batch, heads, queries T, keys S)"
        )
    if device is not None and mask.device != torch.device(device):
        raise ValueError(
            f"{name} is on {mask.device} but the attention inputs are on {torch.device(device)}; "
            f"move it with {name}.to(...)"
        )
    return mask


def check_token_ids(name: str, tokens, vocab_size: int) -> torch.Tensor:
    """Raise unless ``tokens`` is an integer tensor with ids in [0, vocab_size)."""
    if not isinstance(tokens, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of token ids, got {type(tokens).__name__}")
    if tokens.dtype.is_floating_point or tokens.dtype == torch.bool or tokens.is_complex():
        raise TypeError(f"{name} must hold integer token ids, got dtype {tokens.dtype}")
    if tokens.numel() > 0:
        low, high = int(tokens.min()), int(tokens.max())
        if low < 0 or high >= vocab_size:
            bad = low if low < 0 else high
            raise ValueError(
                f"{name} contains id {bad}, outside the vocabulary [0, {vocab_size - 1}] "
                f"(vocab_size={vocab_size})"
            )
    return tokens


def check_float_tensor(name: str, value, ndim_min: int | None = None, ndim: int | None = None) -> torch.Tensor:
    """Raise unless ``value`` is a floating-point tensor (float16, bfloat16, float32, float64)."""
    check_tensor(name, value, ndim_min=ndim_min, ndim=ndim)
    if not value.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor (float16, bfloat16, float32 or float64), "
            f"got dtype {value.dtype}; convert it with {name}.float()"
        )
    return value


def check_input(name: str, x, module, ndim: int | None = None, ndim_min: int | None = None,
                d_model: int | None = None) -> torch.Tensor:
    """Raise unless ``x`` is a tensor a layer can take: dimensions, ``d_model`` features (when
    given), dtype and device of ``module``'s weights.

    Inside ``torch.autocast`` the dtypes may differ (autocast converts them).
    """
    check_tensor(name, x, ndim_min=ndim_min, ndim=ndim)
    if d_model is not None:
        check_features(name, x, d_model)
    weight = next(module.parameters(), None)
    if weight is None:
        return x
    if not x.is_floating_point() or (x.dtype != weight.dtype and not torch.is_autocast_enabled(x.device.type)):
        module_too = f" or the module with .to({x.dtype})" if x.is_floating_point() else ""
        raise TypeError(
            f"{name} must be a floating-point tensor of the module's dtype {weight.dtype}, got {x.dtype} "
            f"(convert with {name}.to({weight.dtype}){module_too})"
        )
    if x.device != weight.device:
        raise ValueError(f"{name} is on {x.device} but the module's weights are on {weight.device}; "
                         f"move one with .to(device)")
    return x


def check_same_device(*named: tuple[str, torch.Tensor]) -> None:
    """Raise unless every ``(name, tensor)`` pair lives on the same device."""
    first_name, first = named[0]
    for name, x in named[1:]:
        if x.device != first.device:
            raise ValueError(
                f"{name} is on {x.device} but {first_name} is on {first.device}; "
                "put every input on one device"
            )
