"""Checks as tasks on Dask: many (claim, seed) checks across worker processes or machines.

:func:`run_checks` runs one :func:`theorylab.verifier.check` per task on a
``dask.distributed`` cluster: by default a ``LocalCluster`` of worker processes
on this machine, one per core, each with torch pinned to one thread; or an
existing scheduler named by its address. The client, not the workers, writes
each verdict to the evidence store as it completes (a single writer), so an
interrupted run keeps every finished result and a rerun can skip them. A worker
killed mid-task loses only that task, which Dask runs again elsewhere; a task
that kills its worker on every retry becomes an error naming the claim and seed.

Dask is imported only here, when a distributed run starts.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theorylab.errors import TheorylabError, elide

__all__ = ["CONNECT_TIMEOUT", "Task", "TaskError", "client", "expected_costs", "run_checks",
           "usable_cores", "worker_count"]

#: Seconds to wait for an existing scheduler before giving up.
CONNECT_TIMEOUT = 5.0
#: Times a task may kill its worker before it is reported (Dask's allowed-failures).
ALLOWED_FAILURES = 2
_loaded: set[str] = set()  # modules a worker process has loaded


@dataclass(frozen=True)
class Task:
    """One check: a claim id and a seed, at a budget (None: the claim's) on a device."""

    claim: str
    seed: int
    budget: int | None = None
    device: str = "cpu"


class TaskError(TheorylabError):
    """A task that could not produce a verdict (its worker died on every retry)."""


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask; ``os.cpu_count`` elsewhere)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def worker_count(workers: int | None) -> int:
    """``workers``, or one per core; refuses a count below 1 or above 4 per core."""
    from theorylab.errors import ParameterError

    cores = usable_cores()
    if workers is None:
        return cores
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 4 * cores:
        raise ParameterError("--workers", f"an integer in [1, {4 * cores}] (4 per core)",
                             workers)
    return workers


@contextlib.contextmanager
def client(scheduler: str | None = None, workers: int | None = None,
           device: str = "cpu") -> Iterator[Any]:
    """A Dask client: connected to ``scheduler``, or to a new LocalCluster of ``workers``.

    The LocalCluster (worker processes, one thread each, its HTTP server on a free port) is closed
    on exit, Ctrl-C included. With ``device='cuda'`` each local worker is given
    one GPU (``CUDA_VISIBLE_DEVICES``) while GPUs last.

    Raises:
        TheorylabError: the scheduler cannot be reached within :data:`CONNECT_TIMEOUT`.

    """
    import logging

    import dask
    from distributed import Client, LocalCluster

    settings = {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                "distributed.worker.daemon": False,  # a worker may fork a check's child
                "distributed.admin.tick.limit": "1h"}  # a long check is not an error
    with dask.config.set(settings):
        if scheduler is not None:
            shown = elide(scheduler, 80)
            try:
                connected = Client(scheduler, timeout=CONNECT_TIMEOUT,
                                   set_as_default=False)
            except (OSError, TimeoutError, ValueError) as error:
                reason = " ".join(str(error).split())[:120] or type(error).__name__
                raise TheorylabError(f"--scheduler {shown!r} could not be reached within "
                                     f"{CONNECT_TIMEOUT:g} s ({reason})") from None
            try:
                yield connected
            finally:
                connected.close()
            return
        count = worker_count(workers)
        cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR,
                               env=_worker_environment(device, count))
        try:
            local = Client(cluster, set_as_default=False)
            try:
                yield local
            finally:
                local.close()
        finally:
            cluster.close()


def _worker_environment(device: str, count: int) -> dict[str, str]:
    environment = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "THEORYLAB_TORCH_THREADS": "1"}
    if device == "cuda":
        # One GPU per worker needs per-worker settings, which LocalCluster lacks;
        # the worker picks its GPU from its name at the first task instead.
        environment["THEORYLAB_GPU_COUNT"] = str(_gpu_count())
    return environment


def _gpu_count() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:  # noqa: BLE001  (no torch CUDA: no GPUs)
        return 0


def _prepare_worker() -> None:
    """Pin torch's threads (once per worker process) and pick this worker's GPU."""
    if "torch-pinned" in _loaded:
        return
    import warnings

    import torch

    # hypothesis notices the verifier's seeding of `random` only off the main thread
    warnings.filterwarnings("ignore", message="Do not use the `random` module")
    threads = int(os.environ.get("THEORYLAB_TORCH_THREADS", "0") or 0)
    if threads:
        torch.set_num_threads(threads)
    gpus = int(os.environ.get("THEORYLAB_GPU_COUNT", "0") or 0)
    if gpus > 1:
        with contextlib.suppress(Exception):
            from distributed import get_worker

            name = str(get_worker().name)
            index = int(name) % gpus if name.isdigit() else 0
            torch.cuda.set_device(index)
    _loaded.add("torch-pinned")


def _run_task(task: Task, modules: tuple[str, ...], timeout: float | None) -> dict[str, Any]:
    """On a worker: load the user's modules, run the check, return ``Verdict.to_dict``."""
    from theorylab import registry
    from theorylab.isolation import check_with_deadline
    from theorylab.verifier import check

    _prepare_worker()
    for module in modules:
        if module not in _loaded:
            registry.load(module)
            _loaded.add(module)
    claim = registry.get(task.claim)
    try:
        if timeout:
            verdict = check_with_deadline(claim, timeout=timeout, modules=modules,
                                          budget=task.budget, seed=task.seed,
                                          device=task.device, record=False)
        else:
            verdict = check(claim, budget=task.budget, seed=task.seed, device=task.device,
                            record=False)
    except TheorylabError as error:
        return {"error": str(error)}
    return {"verdict": verdict.to_dict()}


def _prove_task(claim_id: str, modules: tuple[str, ...]) -> dict[str, Any]:
    """On a worker: check the claim's derivations; the results and the seconds taken."""
    from theorylab import registry
    from theorylab.workflow import prove

    _prepare_worker()
    for module in modules:
        if module not in _loaded:
            registry.load(module)
            _loaded.add(module)
    started = time.perf_counter()
    results = prove(registry.get(claim_id), record=False)
    return {"results": results, "seconds": time.perf_counter() - started}


def _module_sources(modules: Sequence[str]) -> tuple[str, ...]:
    """Module names as given; ``.py`` paths made absolute so any worker finds them."""
    return tuple(str(Path(m).resolve()) if m.endswith(".py") or Path(m).is_file() else m
                 for m in modules)


class _Display:
    """Done, running, failed and an ETA: one rewritten line on a terminal, lines in logs."""

    def __init__(self, total: int, slots: int, say: Callable[[str], None] | None):
        self.total, self.slots, self.done, self.failed = total, slots, 0, 0
        self.started = time.monotonic()
        self.say = say
        self.tty = say is None and sys.stderr.isatty()

    def update(self, message: str, failed: bool = False) -> None:
        self.done += 1
        self.failed += failed
        left = self.total - self.done
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * left
        running = min(left, self.slots)
        line = (f"[{self.done}/{self.total}] done, {running} running, {self.failed} failed, "
                f"ETA {_duration(eta)}: {message}")
        if self.say is not None:  # the caller counts: the rest only
            self.say(f"{message} ({running} running, {self.failed} failed, "
                     f"ETA {_duration(eta)})")
        elif self.tty:
            sys.stderr.write("\r\033[K" + line[:160])
            sys.stderr.flush()
        else:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def close(self) -> None:
        if self.tty and self.done:
            sys.stderr.write("\n")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def run_checks(tasks: Sequence[Task], *, modules: Sequence[str] = (),
               scheduler: str | None = None, workers: int | None = None,
               evidence: Any = None, timeout: float | None = None,
               on_verdict: Callable[[Task, Any], None] | None = None,
               progress: Callable[[str], None] | None = None,
               engine: Any = None, proofs: Sequence[str] = (),
               on_proof: Callable[[str, list[Any], float], None] | None = None) -> list[Any]:
    """Run the checks on Dask; verdicts in the order of ``tasks``.

    Args:
        tasks: the (claim, seed) checks.
        modules: module names or ``.py`` files of user claims, loaded by every worker.
        scheduler: address of an existing scheduler (``tcp://host:8786``); None starts
            a LocalCluster of ``workers`` processes (default one per core).
        evidence: an :class:`~theorylab.evidence.Evidence` the client records each
            verdict in as it completes (None: not recorded).
        timeout: per-check time limit in seconds, as in ``check --timeout``.
        on_verdict: called in the client with each task and verdict as it completes.
        progress: receives the progress lines (default: stderr).
        engine: an existing Dask client to use instead of starting one.
        proofs: claim ids whose derivations the workers check alongside the checks
            (``verify``); nothing is recorded for them here.
        on_proof: called in the client with each claim id, its derivation results and
            the seconds they took, as each completes.

    Returns:
        One :class:`~theorylab.verifier.Verdict` per task, in order.

    Raises:
        TaskError: a task killed its worker on every retry (names the claim and seed),
            or a check raised an input error; verdicts finished before are recorded.
        TheorylabError: the scheduler is unreachable.

    """
    if not tasks and not proofs:
        return []
    with contextlib.ExitStack() as stack:
        if engine is None:
            device = tasks[0].device if tasks else "cpu"
            engine = stack.enter_context(client(scheduler, workers, device))
        return _gather(engine, list(tasks), _module_sources(modules), evidence, timeout,
                       on_verdict, progress, tuple(proofs), on_proof)


def _gather(engine: Any, tasks: list[Task], modules: tuple[str, ...], evidence: Any,
            timeout: float | None, on_verdict: Callable[[Task, Any], None] | None,
            progress: Callable[[str], None] | None, proofs: tuple[str, ...] = (),
            on_proof: Callable[[str, list[Any], float], None] | None = None) -> list[Any]:
    from distributed import as_completed

    from theorylab.verifier import Verdict

    slots = max(sum(engine.nthreads().values()), 1)
    display = _Display(len(tasks) + len(proofs), slots, progress)
    costs = expected_costs(evidence, {task.claim for task in tasks})
    proof_costs = expected_costs(evidence, set(proofs), kind="derivation")
    futures: dict[Any, int | str] = {}
    for index, task in enumerate(tasks):
        # Longest first (by the claim's last recorded check time): a long check started
        # last would leave the other workers idle at the end.
        future = engine.submit(_run_task, task, modules, timeout, pure=False,
                               priority=int(round(costs.get(task.claim, 0.0))),
                               key=f"theorylab-check-{task.claim}-{task.seed}-{index}-"
                                   f"{os.getpid()}-{time.monotonic_ns()}")
        futures[future] = index
    for claim_id in proofs:
        future = engine.submit(_prove_task, claim_id, modules, pure=False,
                               priority=int(round(proof_costs.get(claim_id, 0.0))),
                               key=f"theorylab-prove-{claim_id}-{os.getpid()}-"
                                   f"{time.monotonic_ns()}")
        futures[future] = claim_id
    verdicts: list[Any] = [None] * len(tasks)
    problems: list[str] = []
    try:
        for future in as_completed(list(futures), loop=engine.loop):
            index = futures.pop(future)
            if isinstance(index, str):  # a claim's derivations
                if future.status == "error":
                    error = future.exception()
                    problems.append(f"{index} derivations: {type(error).__name__}: "
                                    f"{' '.join(str(error).split())[:150]}")
                    display.update(f"proving {index}: error", failed=True)
                    continue
                answer = future.result()
                if on_proof is not None:
                    on_proof(index, answer["results"], answer["seconds"])
                display.update(f"{index} proved")
                continue
            task = tasks[index]
            if future.status == "error":
                problems.append(_task_failure(task, future.exception()))
                display.update(f"{task.claim} seed {task.seed}: error", failed=True)
                continue
            answer = future.result()
            if "error" in answer:
                problems.append(f"{task.claim} seed {task.seed}: {answer['error']}")
                display.update(f"{task.claim} seed {task.seed}: error", failed=True)
                continue
            verdict = Verdict.from_dict(answer["verdict"])
            verdicts[index] = verdict
            if evidence is not None:  # the client is the only writer
                evidence.append({"kind": "verdict", "claim": verdict.claim,
                                 "fingerprint": verdict.fingerprint, "time": time.time(),
                                 "data": answer["verdict"]})
            if on_verdict is not None:
                on_verdict(task, verdict)
            display.update(f"{task.claim} seed {task.seed} {verdict.status.value}")
    finally:
        display.close()
        for future in futures:
            future.cancel()
    if problems:
        extra = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise TaskError(problems[0] + extra)
    return verdicts


def expected_costs(evidence: Any, claims: set[str], kind: str = "verdict") -> dict[str, float]:
    """Each claim's most recent recorded time in seconds (absent: never recorded).

    ``kind`` is ``"verdict"`` (a check's ``wall_time``) or ``"derivation"`` (the
    ``seconds`` its derivations took).
    """
    if evidence is None or not claims:
        return {}
    field = "wall_time" if kind == "verdict" else "seconds"
    costs: dict[str, float] = {}
    try:
        entries = evidence.entries()
    except Exception:  # noqa: BLE001  (an unreadable store only loses the ordering)
        return {}
    for entry in entries:
        data = entry.get("data")
        if entry.get("kind") == kind and entry.get("claim") in claims and \
                isinstance(data, dict) and isinstance(data.get(field), (int, float)):
            costs[entry["claim"]] = float(data[field])
    return costs


def _task_failure(task: Task, error: BaseException | None) -> str:
    name = type(error).__name__ if error is not None else "an unknown error"
    if name == "KilledWorker":
        return (f"{task.claim} seed {task.seed}: the check killed its worker on each of "
                f"{ALLOWED_FAILURES + 1} tries")
    text = " ".join(str(error).split())[:150]
    return f"{task.claim} seed {task.seed}: {name}: {text}"
