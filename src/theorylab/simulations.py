"""Write only the physics: the simulation contract and a helper that fulfils it.

The verifier calls a claim's simulation as ``simulate(points, *, seed, device,
ensemble) -> list[Measurement]`` (:class:`Simulation`). :func:`simulation` turns a
function of *one* point into that::

    from theorylab.simulations import simulation

    @simulation(levels=(0.1, 0.05, 0.025))          # resolutions, e.g. step sizes
    def second_moment(point, *, ensemble, generator, device, resolution):
        ...                                          # torch code for one point
        return values                                # first axis: the ensemble

The helper loops over points (or passes them all at once with ``batched=True``),
seeds a ``torch.Generator`` from ``(seed, point)`` so that a point's samples do not
depend on which other points are checked, runs every level with the same random
numbers (Richardson extrapolation per ensemble member then cancels the noise that
levels share), moves results to the CPU as float64 and builds the
:class:`~theorylab.measurement.Measurement` objects.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from theorylab.measurement import Measurement

__all__ = ["Simulation", "simulation", "contract_problem", "SIGNATURE"]

#: The contract, as error messages quote it.
SIGNATURE = "simulate(points, *, seed, device, ensemble) -> list[Measurement]"


@runtime_checkable
class Simulation(Protocol):
    """What the verifier calls: one Measurement per point, samples ``(levels, ensemble, ...)``."""

    def __call__(self, points: list[dict[str, Any]], *, seed: int, device: str,
                 ensemble: int) -> list[Measurement]:
        """Measure the quantity at every point."""


def contract_problem(function: Any) -> str:
    """Why ``function`` cannot be called as the contract says ('' when it can)."""
    if not callable(function):
        return f"the simulation must be callable as {SIGNATURE}"
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return ""  # builtins and C functions: nothing to inspect
    try:
        signature.bind([], seed=0, device="cpu", ensemble=2)
    except TypeError as error:
        return (f"the simulation {getattr(function, '__name__', function)!r} cannot be called "
                f"as {SIGNATURE} ({error})")
    return ""


def point_seed(seed: int, point: dict[str, Any]) -> int:
    """A 63-bit seed from the check's seed and the point, independent of other points."""
    text = json.dumps(point, sort_keys=True, default=_plain)
    digest = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)


def _to_numpy(value: Any, ensemble: int, where: str) -> np.ndarray:
    if hasattr(value, "detach"):
        if value.is_complex():
            raise ValueError(f"{where} returned complex values; measure a real quantity")
        value = value.detach().to("cpu").double().numpy()
    array = np.asarray(value)
    if np.iscomplexobj(array):
        raise ValueError(f"{where} returned complex values; measure a real quantity")
    array = array.astype(np.float64)
    if array.ndim == 0 or array.shape[0] != ensemble:
        raise ValueError(f"{where} returned shape {tuple(array.shape)}; its first axis must be "
                         f"the ensemble ({ensemble})")
    return array


def simulation(function: Callable[..., Any] | None = None, *,
               levels: Sequence[float] | None = None, batched: bool = False,
               rounding: float = 0.0) -> Any:
    """Wrap a function of one point (or of all points) into a claim's simulation.

    Args:
        function: ``f(point, *, ensemble, generator, device, resolution)`` returning
            an array or tensor whose first axis is the ensemble; with
            ``batched=True``, ``f(points, *, ensemble, generator, device,
            resolution)`` returning one such value per point (or a tensor whose
            first two axes are points and ensemble).
        levels: the resolutions (step sizes, inverse widths) at which to measure;
            None for one level (nothing to extrapolate, ``resolution=0``). Two or
            more levels need a ``SystematicError`` on the claim.
        batched: pass all points at once (the fast path for bmm ensembles).
        rounding: an absolute bound on accumulated floating-point error.

    Returns:
        A function with the :class:`Simulation` contract; its ``levels``
        attribute lets a Claim check its bias model when it is built.

    """
    resolutions = tuple(float(h) for h in levels) if levels is not None else (0.0,)

    def wrap(physics: Callable[..., Any]) -> Callable[..., list[Measurement]]:
        name = getattr(physics, "__name__", "simulation")

        def simulate(points: list[dict[str, Any]], *, seed: int, device: str,
                     ensemble: int) -> list[Measurement]:
            import torch

            if batched:
                per_level = []
                for resolution in resolutions:
                    generator = torch.Generator(device=device).manual_seed(
                        point_seed(seed, {"points": points}))
                    values = physics(points, ensemble=ensemble, generator=generator,
                                     device=device, resolution=resolution)
                    if len(values) != len(points):
                        raise ValueError(f"{name} returned {len(values)} results for "
                                         f"{len(points)} points")
                    per_level.append([_to_numpy(v, ensemble, name) for v in values])
                by_point = [np.stack([level[i] for level in per_level])
                            for i in range(len(points))]
            else:
                by_point = []
                for point in points:
                    rows = []
                    for resolution in resolutions:
                        generator = torch.Generator(device=device).manual_seed(
                            point_seed(seed, point))
                        rows.append(_to_numpy(physics(point, ensemble=ensemble,
                                                      generator=generator, device=device,
                                                      resolution=resolution), ensemble, name))
                    by_point.append(np.stack(rows))
            return [Measurement(samples=samples, resolutions=np.asarray(resolutions),
                                rounding=rounding) for samples in by_point]

        # Name and docstring only: __wrapped__ would make inspect report the physics'
        # signature instead of the contract's.
        simulate.__name__, simulate.__qualname__ = name, getattr(physics, "__qualname__", name)
        simulate.__doc__ = physics.__doc__
        simulate.levels = resolutions  # type: ignore[attr-defined]
        return simulate

    return wrap(function) if function is not None else wrap
