"""Shared torch helpers for the simulations: devices, generators, Haar matrices."""

from __future__ import annotations

import torch

__all__ = ["generator", "haar_orthogonal", "FLOAT64_EPS"]

FLOAT64_EPS = float(torch.finfo(torch.float64).eps)


def generator(seed: int, device: str) -> torch.Generator:
    """A seeded generator on ``device``."""
    result = torch.Generator(device=device)
    result.manual_seed(int(seed))
    return result


def haar_orthogonal(batch: int, size: int, *, rng: torch.Generator, device: str) -> torch.Tensor:
    """``batch`` Haar-distributed orthogonal ``size x size`` matrices, float64.

    QR of a Gaussian matrix, with the signs of R's diagonal moved into Q so that
    the distribution is exactly Haar (Mezzadri 2007, arXiv:math-ph/0609050).
    """
    gaussian = torch.randn(batch, size, size, generator=rng, device=device, dtype=torch.float64)
    q, r = torch.linalg.qr(gaussian)
    signs = torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    return q * signs.unsqueeze(-2)
