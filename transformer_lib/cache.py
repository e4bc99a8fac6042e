"""A key/value cache for one attention layer (used when generating token by token).

Legend: B batch, H heads, S cached positions, K head width.

When a decoder generates, the keys and values of earlier tokens never change
(causal attention: a token only looks back). So each layer keeps them and each
step computes q, k, v for the new token only, appends k and v here, and attends
over everything cached. Storage is preallocated and grows by doubling, so a step
writes into existing memory instead of re-allocating the whole history.
"""
from __future__ import annotations

import torch

from ._checks import check_tensor

__all__ = ["KVCache"]


class KVCache:
    """Keys and values of one attention layer, appended step by step.

    Args:
        capacity: initial number of positions to preallocate (grows as needed).

    Example::

        cache = KVCache()
        keys, values = cache.append(k, v)   # k, v: (B, H, T_new, K)
        len(cache)                          # positions cached so far
    """

    def __init__(self, capacity: int = 64):
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0:
            raise ValueError(f"capacity must be a positive int, got {capacity!r}")
        self.capacity = capacity
        self.reset()

    def reset(self) -> None:
        """Forget every cached position (the buffers are kept for reuse)."""
        self.length = 0
        if not hasattr(self, "_keys"):
            self._keys: torch.Tensor | None = None
            self._values: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.length

    def _grow(self, k: torch.Tensor, v: torch.Tensor, needed: int) -> None:
        B, H, _, K = k.shape
        capacity = max(self.capacity, needed)
        if self._keys is not None:
            capacity = max(capacity, 2 * self._keys.shape[2])
        keys = k.new_empty(B, H, capacity, K)  # (B, H, capacity, K)
        values = v.new_empty(B, H, capacity, v.shape[-1])
        if self._keys is not None and self.length > 0:
            keys[:, :, : self.length] = self._keys[:, :, : self.length]
            values[:, :, : self.length] = self._values[:, :, : self.length]
        self._keys, self._values = keys, values

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add the new positions and return all cached keys and values.

        Args:
            k: (B, H, T_new, K) keys of the new positions.
            v: (B, H, T_new, K_v) values of the new positions.

        Returns:
            ``(keys, values)`` of shape (B, H, S, K) and (B, H, S, K_v), S = len(self).
        """
        check_tensor("k", k, ndim=4)
        check_tensor("v", v, ndim=4)
        if k.shape[:3] != v.shape[:3]:
            raise ValueError(f"k {tuple(k.shape)} and v {tuple(v.shape)} must agree on (B, H, T)")
        if self._keys is not None and self.length > 0:
            expected = (self._keys.shape[0], self._keys.shape[1], self._keys.shape[3])
            if (k.shape[0], k.shape[1], k.shape[3]) != expected or k.dtype != self._keys.dtype:
                raise ValueError(
                    f"k of shape {tuple(k.shape)} ({k.dtype}) does not match the cached keys "
                    f"(B, H, K) = {expected} ({self._keys.dtype}); call reset() for a new sequence"
                )
        end = self.length + k.shape[2]
        if self._keys is None or end > self._keys.shape[2] or self._keys.device != k.device \
                or self._keys.dtype != k.dtype or self._keys.shape[0] != k.shape[0]:
            self._grow(k, v, end)
        self._keys[:, :, self.length:end] = k
        self._values[:, :, self.length:end] = v
        self.length = end
        return self._keys[:, :, :end], self._values[:, :, :end]

    @property
    def keys(self) -> torch.Tensor | None:
        """(B, H, S, K) cached keys, or None when empty."""
        return None if self.length == 0 else self._keys[:, :, : self.length]

    @property
    def values(self) -> torch.Tensor | None:
        """(B, H, S, K_v) cached values, or None when empty."""
        return None if self.length == 0 else self._values[:, :, : self.length]

    def __repr__(self) -> str:
        shape = None if self._keys is None else tuple(self._keys[:, :, : self.length].shape)
        return f"KVCache(length={self.length}, keys={shape})"
