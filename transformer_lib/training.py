"""A small, seeded training loop with a progress bar, for the chapters that train a model.

The loop is the textbook one, written out so that a reader can follow it::

    for step in range(steps):
        loss = loss_fn(model, batch)      # forward pass, one number
        optimizer.zero_grad()
        loss.backward()                   # gradients of every weight
        clip_grad_norm_(...)              # keep one bad batch from blowing up the weights
        optimizer.step()                  # Adam update
        scheduler.step()                  # warm up, then decay the learning rate

plus two things the book needs: a progress bar (``tqdm.auto``: a widget in
Jupyter, a text bar in a terminal) and a hook that evaluates the model every
few steps and records whatever it returns (accuracy, attention maps, ...).

Repeatability: call :func:`set_seed` first. With the same seed, data order,
number of threads and machine, two runs produce bit-identical losses (on a GPU,
also pass ``deterministic=True``, which switches PyTorch's deterministic kernels on
for the whole process).

Legend: B batch.
"""
from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn

from ._checks import check_positive_int

__all__ = ["TrainingHistory", "set_seed", "train", "warmup_cosine", "accuracy"]


def set_seed(seed: int, deterministic: bool = False, threads: int | None = None) -> None:
    """Seed Python's and PyTorch's random generators (CPU and every GPU).

    Args:
        seed: the seed (an int >= 0).
        deterministic: also ask PyTorch for deterministic kernels, **for the whole
            process** (``torch.use_deterministic_algorithms(True)``): later code that
            uses an operation without a deterministic kernel then raises. Off by
            default; undo it with ``torch.use_deterministic_algorithms(False)``. On the
            CPU the seed alone already makes a run repeatable.
        threads: if given, the number of CPU threads PyTorch uses, also for the whole
            process. The result of a sum can depend on how the work is split between
            threads, so fixing the count (1 is the safest) makes runs bit-identical
            across machines with different core counts.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r} of type {type(seed).__name__}")
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    if not isinstance(deterministic, bool):
        raise TypeError(f"deterministic must be True or False, got {deterministic!r}")
    if threads is not None:
        check_positive_int("threads", threads)
    random.seed(seed)
    torch.manual_seed(seed)  # seeds the CPU and every CUDA device
    if deterministic:
        # cuBLAS needs this workspace setting for deterministic matrix products on a GPU.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
    if threads is not None:
        torch.set_num_threads(threads)


def warmup_cosine(step: int, total_steps: int, warmup_steps: int) -> float:
    """Learning-rate factor: linear warm-up to 1 over ``warmup_steps``, then cosine decay to 0."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows whose largest logit is the label: (N, C) and (N,) -> float."""
    return (logits.argmax(dim=-1) == labels).float().mean().item()


@dataclass
class TrainingHistory:
    """What :func:`train` records.

    Attributes:
        losses: the training loss of every step (step 1 is the first update).
        learning_rates: the learning rate used at every step.
        eval_steps: the steps at which ``evaluate`` ran (0 = before training).
        evals: what ``evaluate`` returned at each of those steps (dicts).
        seconds: wall-clock duration of the whole loop.
    """

    losses: list[float] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    evals: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def metric(self, name: str) -> list:
        """The values of one entry of ``evals`` over the evaluation steps."""
        if not self.evals:
            raise KeyError("no evaluations were recorded: pass evaluate= and eval_every= to train()")
        if name not in self.evals[0]:
            raise KeyError(f"no metric {name!r}; evaluate returned {sorted(self.evals[0])}")
        return [e[name] for e in self.evals]

    @property
    def steps(self) -> int:
        return len(self.losses)


def _batches_for(batches, steps: int | None) -> tuple[Callable[[int], Any], int]:
    """Turn a callable ``step -> batch`` or a (re-iterable) collection into ``get(step)`` and a step count."""
    if callable(batches):
        if steps is None:
            raise ValueError("steps is required when batches is a function step -> batch")
        return batches, steps
    if not isinstance(batches, Iterable):
        raise TypeError(f"batches must be a function step -> batch or a list of batches, got {type(batches).__name__}")
    batches = list(batches)
    if not batches:
        raise ValueError("batches is empty")
    steps = len(batches) if steps is None else steps
    return (lambda step: batches[step % len(batches)]), steps


def _check_number(name: str, value, positive: bool = False) -> float:
    """A finite real number, >= 0 (or > 0 with ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


def _finite_loss(loss_fn: Callable) -> Callable:
    """Wrap ``loss_fn`` so that a non-scalar or non-finite loss raises before any update."""
    calls = 0

    def checked(model, batch):
        nonlocal calls
        calls += 1
        loss = loss_fn(model, batch)
        if not (isinstance(loss, torch.Tensor) and loss.dim() == 0):
            shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
            raise TypeError(f"loss_fn must return a scalar tensor, got {shape}")
        if not torch.isfinite(loss.detach()):
            raise FloatingPointError(
                f"loss_fn returned {loss.item()} at step {calls}; training stopped before the "
                "weights were updated (lower lr, check the data, or clip gradients)"
            )
        return loss

    return checked


def train(
    model: nn.Module,
    batches,
    loss_fn: Callable[[nn.Module, Any], torch.Tensor],
    *,
    steps: int | None = None,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    warmup_steps: int = 0,
    schedule: str = "cosine",
    clip_grad_norm: float | None = 1.0,
    optimizer: torch.optim.Optimizer | None = None,
    evaluate: Callable[[nn.Module], dict[str, Any]] | None = None,
    eval_every: int | None = None,
    progress: bool = True,
    desc: str = "training",
) -> TrainingHistory:
    """Train ``model`` with AdamW for ``steps`` steps and return the history.

    Args:
        model: any ``nn.Module``; it is put in training mode (and left so).
        batches: a function ``step -> batch`` or a list of batches (used in order,
            cycling if ``steps`` is larger). A batch is whatever ``loss_fn`` takes.
        loss_fn: ``loss_fn(model, batch)`` returns the scalar loss to minimise.
        steps: number of updates (default: ``len(batches)``).
        lr: peak learning rate.
        weight_decay: AdamW's decoupled weight decay.
        warmup_steps: linear warm-up steps (``schedule="cosine"`` only).
        schedule: ``"cosine"`` (warm-up then cosine decay to 0) or ``"constant"``.
        clip_grad_norm: largest allowed gradient norm (None: no clipping).
        optimizer: use this optimizer instead of a new AdamW (``lr`` and
            ``weight_decay`` are then ignored, the schedule still applies).
        evaluate: ``evaluate(model)`` returns a dict (numbers, tensors, ...);
            it runs in eval mode without gradients before training (step 0),
            every ``eval_every`` steps and after the last step.
        eval_every: steps between evaluations (default: only before and after).
        progress: show a progress bar (``tqdm.auto``) with the running loss.
        desc: the progress bar's label.

    Returns:
        A :class:`TrainingHistory`.
    """
    from tqdm.auto import tqdm

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    get_batch, steps = _batches_for(batches, steps)
    check_positive_int("steps", steps)
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {schedule!r}")
    if eval_every is not None:
        check_positive_int("eval_every", eval_every)
    _check_number("lr", lr, positive=True)
    _check_number("weight_decay", weight_decay)
    if clip_grad_norm is not None:
        _check_number("clip_grad_norm", clip_grad_norm, positive=True)
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be an int >= 0, got {warmup_steps!r}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function (model, batch) -> loss, got {type(loss_fn).__name__}")
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be a function model -> dict, got {type(evaluate).__name__}")
    if optimizer is None:
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    if schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(s, steps, warmup_steps))
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)

    history = TrainingHistory()

    def run_evaluation(step: int) -> None:
        if evaluate is None:
            return
        model.eval()
        try:
            with torch.no_grad():
                result = evaluate(model)
        finally:
            model.train()
        if not isinstance(result, dict):
            raise TypeError(f"evaluate must return a dict, got {type(result).__name__}")
        history.eval_steps.append(step)
        history.evals.append(result)

    loss_fn = _finite_loss(loss_fn)  # a NaN or inf loss raises before it reaches the weights
    start = time.perf_counter()
    # [book: train-loop]
    model.train()
    run_evaluation(0)
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress, leave=True)
    for step in bar:
        batch = get_batch(step - 1)
        loss = loss_fn(model, batch)
        if not (isinstance(loss, torch.Tensor) and loss.dim() == 0):
            raise TypeError("loss_fn must return a scalar tensor")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
        history.learning_rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
        history.losses.append(loss.item())
        if step % 10 == 0 or step == steps:
            bar.set_postfix(loss=f"{history.losses[-1]:.3f}", refresh=False)
        if (eval_every is not None and step % eval_every == 0) or step == steps:
            run_evaluation(step)
    # [/book: train-loop]
    bar.close()
    history.seconds = time.perf_counter() - start
    return history
