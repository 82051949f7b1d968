"""Checks in a child process with a deadline.

A user's simulation may never return (an infinite loop, a deadlock, a sleep).
:func:`check_with_deadline` runs :func:`theorylab.verifier.check` in a child
process and waits at most ``timeout`` seconds: past it the child is killed and
the claim gets an INCONCLUSIVE verdict "timed out after N s", recorded like any
other, so that a run over many claims goes on. The same holds when the child
dies without answering (a crash in native code, ``os._exit``).

The child is forked on CPU (cheap; the claim is inherited) and spawned for CUDA
(CUDA cannot be used in a forked child): a spawned child re-imports the
catalogue and the user's modules, named by path, and looks the claim up by id.
The verdict comes back as :meth:`Verdict.to_dict`, progress messages as text.
"""

from __future__ import annotations

import math
import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from theorylab.errors import TheorylabError

__all__ = ["DEFAULT_TIMEOUT", "MAX_TIMEOUT", "check_with_deadline", "timed_out_verdict"]

#: Seconds a claim's check may take by default (the CLI's ``--timeout``).
DEFAULT_TIMEOUT = 600.0
#: The largest ``--timeout`` accepted: one day.
MAX_TIMEOUT = 86_400.0
_KILL_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


def check_with_deadline(claim: Any, *, timeout: float | None, modules: Sequence[str] = (),
                        budget: int | None = None, seed: int = 0, device: str = "cpu",
                        progress: Callable[[str], None] | None = None,
                        record: bool | Any = True, method: str | None = None) -> Any:
    """:func:`theorylab.verifier.check` with a wall-clock limit of ``timeout`` seconds.

    Args:
        claim: the claim.
        timeout: seconds allowed; None or 0 runs the check in this process, unlimited.
        modules: module names or ``.py`` paths that define user claims, loaded again
            by a spawned child (CUDA) so that it can find ``claim`` by id.
        budget, seed, device: as for :func:`~theorylab.verifier.check`.
        progress: called with the child's progress messages.
        record: where the verdict is recorded (as for ``check``); the parent records
            it, so a timed-out check is recorded too.
        method: 'fork' or 'spawn' (default: spawn for CUDA, fork otherwise).

    Returns:
        The verdict; INCONCLUSIVE "timed out after N s" when the deadline passed, or
        with the reason when the child died without answering.

    Raises:
        TheorylabError: what ``check`` raises for bad input (a budget, seed or
            definition error), raised again here with the same message.

    """
    from theorylab.verifier import Verdict, _record, check

    if not timeout:
        return check(claim, budget=budget, seed=seed, device=device, progress=progress,
                     record=record)
    method = method or ("spawn" if device == "cuda" else "fork")
    if method == "fork":
        import scipy.stats  # noqa: F401  (imported once here, not in every child: ~4 s each)
    context = multiprocessing.get_context(method)
    receiver, sender = context.Pipe(duplex=False)
    source = claim if method == "fork" else None
    child = context.Process(
        target=_child, daemon=True,
        args=(sender, source, claim.id, list(modules) + _defining_module(claim), budget, seed,
              device))
    started = time.monotonic()
    child.start()
    sender.close()
    answer: tuple[str, Any] | None = None
    try:
        while answer is None:
            left = timeout - (time.monotonic() - started)
            if left <= 0 or not receiver.poll(min(left, 1.0)):
                if left <= 0:
                    break
                if not child.is_alive() and not receiver.poll(0):
                    break
                continue
            try:
                kind, payload = receiver.recv()
            except (EOFError, OSError):
                break
            if kind == "progress":
                if progress is not None:
                    progress(payload)
                continue
            answer = (kind, payload)
    finally:
        _stop(child)
        receiver.close()
    elapsed = time.monotonic() - started
    if answer is None:
        reason = (f"timed out after {timeout:g} s" if elapsed >= timeout else
                  f"the check's process ended without a verdict (exit code {child.exitcode})")
        verdict = timed_out_verdict(claim, reason, budget=budget, seed=seed, device=device,
                                    wall_time=elapsed)
    elif answer[0] == "error":
        raise TheorylabError(answer[1])
    elif answer[0] == "crash":
        verdict = timed_out_verdict(claim, f"the check raised {answer[1]}", budget=budget,
                                    seed=seed, device=device, wall_time=elapsed)
    else:
        verdict = Verdict.from_dict(answer[1])
    _record(record, claim, verdict)
    return verdict


def timed_out_verdict(claim: Any, reason: str, *, budget: int | None, seed: int, device: str,
                      wall_time: float) -> Any:
    """An INCONCLUSIVE verdict with ``reason`` and no points (nothing was measured)."""
    from theorylab.verifier import DEFAULT_ALPHA, Status, Verdict

    budget = claim.budget if budget is None else budget
    return Verdict(
        claim=claim.id, subject=claim.id, status=Status.INCONCLUSIVE, points=[], seed=seed,
        device=device, budget=budget, ensemble=claim.ensemble, alpha=DEFAULT_ALPHA,
        critical_value=math.nan, wall_time=wall_time, fingerprint=claim.fingerprint(),
        reason=reason, required_resolution=claim.resolution, smoke=budget < claim.budget)


def _defining_module(claim: Any) -> list[str]:
    """The file of a user module that defines ``claim`` (empty for the catalogue's)."""
    module = sys.modules.get(getattr(claim, "_module", ""))
    path = getattr(module, "__file__", None)
    if module is None or path is None or module.__name__.startswith(("theory.", "theorylab.")):
        return []
    return [path]


def _child(sender: Any, claim: Any, claim_id: str, modules: list[str], budget: int | None,
           seed: int, device: str) -> None:
    """Run one check and send ('verdict', dict), ('error', message) or ('crash', summary)."""
    from theorylab import registry
    from theorylab.verifier import _one_line, check

    if claim is not None:  # forked: the parent's OpenMP pool does not survive a fork
        import torch

        torch.set_num_threads(1)
    try:
        if claim is None:
            for module in dict.fromkeys(modules):
                registry.load(module)
            claim = registry.get(claim_id)
        verdict = check(claim, budget=budget, seed=seed, device=device,
                        progress=lambda message: sender.send(("progress", message)),
                        record=False)
        sender.send(("verdict", verdict.to_dict()))
    except TheorylabError as error:
        sender.send(("error", str(error)))
    except BaseException as error:  # noqa: BLE001  (anything, SystemExit included, is a reason)
        sender.send(("crash", _one_line(error)))
    finally:
        sender.close()


def _stop(child: Any) -> None:
    """End the child: SIGTERM, then SIGKILL if it does not go."""
    if child.is_alive():
        child.terminate()
        child.join(_KILL_GRACE)
    if child.is_alive():
        child.kill()
    child.join()
