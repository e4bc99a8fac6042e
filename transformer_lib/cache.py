"""A key/value cache for one attention layer (used when generating token by token).

Legend: B batch, H_kv key/value heads, S cached positions, d_k head width.

When a decoder generates, the keys and values of earlier tokens never change
(causal attention: a token only looks back). So each layer keeps them and each
step computes q, k, v for the new token only, appends k and v here, and attends
over everything cached. Storage is preallocated and grows by doubling, so a step
writes into existing memory instead of re-allocating the whole history.

With grouped-query attention only the H_kv key/value heads are stored (SmolLM2:
3 instead of 9), which divides the cache's memory by H / H_kv.
"""
from __future__ import annotations

import torch

from ._checks import check_tensor

__all__ = ["KVCache"]


class KVCache:
    """Keys and values of one attention layer, appended step by step.

    Args:
        capacity: initial number of positions to preallocate (grows as needed).

    The tensors returned by :meth:`append`, :attr:`keys` and :attr:`values` are views
    of the cache's storage, and they stay valid: a later :meth:`append` writes only
    positions after them (or copies into new, larger storage), and :meth:`reset`
    releases the storage instead of reusing it, so a view taken before a reset is
    never overwritten by the next sequence.

    Example::

        cache = KVCache()
        keys, values = cache.append(k, v)   # k, v: (B, H_kv, T_new, d_k)
        len(cache)                          # positions cached so far
    """

    def __init__(self, capacity: int = 64):
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0:
            raise ValueError(f"capacity must be a positive int, got {capacity!r}")
        self.capacity = capacity
        self.reset()

    def reset(self) -> None:
        """Forget every cached position. The next ``append`` may use any shape, dtype or device."""
        self.length = 0
        self._keys: torch.Tensor | None = None
        self._values: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.length

    def check(self, k: torch.Tensor, v: torch.Tensor) -> None:
        """Raise unless ``k`` (B, H_kv, T_new, d_k) and ``v`` (B, H_kv, T_new, d_v) can be appended.

        Nothing is changed: :class:`~transformer_lib.MultiHeadAttention` calls this
        before it computes anything, so a call that fails leaves the cache as it was.
        """
        check_tensor("k", k, ndim=4)
        check_tensor("v", v, ndim=4)
        if k.shape[:3] != v.shape[:3]:
            raise ValueError(f"k {tuple(k.shape)} and v {tuple(v.shape)} must agree on (B, H_kv, T)")
        if k.dtype != v.dtype or k.device != v.device:
            raise ValueError(f"k ({k.dtype}, {k.device}) and v ({v.dtype}, {v.device}) must agree on dtype and device")
        if self.length == 0:
            return  # empty: any shape, dtype and device
        for name, width, new, old in (("k", "d_k", k, self._keys), ("v", "d_v", v, self._values)):
            expected = (old.shape[0], old.shape[1], old.shape[3])
            got = (new.shape[0], new.shape[1], new.shape[3])
            if got != expected or new.dtype != old.dtype or new.device != old.device:
                raise ValueError(
                    f"{name} of shape {tuple(new.shape)} ({new.dtype}, {new.device}) does not match the "
                    f"cached {'keys' if name == 'k' else 'values'}: (B, H_kv, {width}) = {expected} "
                    f"({old.dtype}, {old.device}); call reset() for a new sequence"
                )

    def _grow(self, k: torch.Tensor, v: torch.Tensor, needed: int) -> None:
        B, H_kv, _, d_k = k.shape
        capacity = max(self.capacity, needed)
        if self._keys is not None:
            capacity = max(capacity, 2 * self._keys.shape[2])
        keys = k.new_empty(B, H_kv, capacity, d_k)  # (B, H_kv, capacity, d_k)
        values = v.new_empty(B, H_kv, capacity, v.shape[-1])
        if self._keys is not None and self.length > 0:
            keys[:, :, : self.length] = self._keys[:, :, : self.length]
            values[:, :, : self.length] = self._values[:, :, : self.length]
        self._keys, self._values = keys, values

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add the new positions and return all cached keys and values.

        Args:
            k: (B, H_kv, T_new, d_k) keys of the new positions.
            v: (B, H_kv, T_new, d_v) values of the new positions (same B, H_kv, T_new,
                dtype and device as ``k``, and as what is cached).

        Returns:
            ``(keys, values)`` of shape (B, H_kv, S, d_k) and (B, H_kv, S, d_v), S = len(self).
        """
        self.check(k, v)
        if self.length == 0:
            self.reset()  # storage left by an empty append may have another shape
        # [book: cache-append]
        end = self.length + k.shape[2]
        if self._keys is None or end > self._keys.shape[2]:
            self._grow(k, v, end)  # new storage, twice as long, with the old positions copied
        self._keys[:, :, self.length:end] = k  # write the new positions in place
        self._values[:, :, self.length:end] = v
        self.length = end
        return self._keys[:, :, :end], self._values[:, :, :end]  # (B, H_kv, S, d_k)
        # [/book: cache-append]

    @property
    def keys(self) -> torch.Tensor | None:
        """(B, H_kv, S, d_k) cached keys, or None when empty."""
        return None if self.length == 0 else self._keys[:, :, : self.length]

    @property
    def values(self) -> torch.Tensor | None:
        """(B, H_kv, S, d_v) cached values, or None when empty."""
        return None if self.length == 0 else self._values[:, :, : self.length]

    @property
    def nbytes(self) -> int:
        """Bytes of the cached positions, keys and values (B * H_kv * S * (d_k + d_v) numbers).

        The preallocated storage can be up to twice that (it grows by doubling).
        """
        if self.length == 0:
            return 0
        return (self.keys.numel() + self.values.numel()) * self._keys.element_size()

    def __repr__(self) -> str:
        shape = None if self._keys is None else tuple(self._keys[:, :, : self.length].shape)
        return f"KVCache(length={self.length}, keys={shape})"
