"""Samplers: distributions a :class:`~phantomzoo.Supertype` field is drawn from.

Every sampler draws from the ``numpy.random.Generator`` it is given; the environment
passes the generator seeded by ``reset(seed=...)``, so a seed fixes every draw.
``sampler.sample()`` without a generator (Phantom's call) draws from a fresh,
**unseeded** generator: fine for a quick look, never reproducible.

**Shared or independent draws.** One sampler object used by several agents (or several
fields) gives each use its *own, independent* draw: ``budget = UniformFloatSampler(0, 1)``
put in ten agents' supertypes gives ten different budgets. To give every use the *same*
draw per episode, wrap it: ``Shared(UniformFloatSampler(0, 1))`` (or call
``.shared()``); every field holding that one ``Shared`` object receives one common value
per episode. (Phantom shares every sampler object; here sharing is explicit.)

**Comparisons.** The uniform, normal and array samplers are
:class:`ComparableSampler` s, as in Phantom: after a draw, ``sampler <= 1.0`` compares
the latest draw (:attr:`Sampler.value`); two samplers are equal only if identical.

**Shapes.** Every sampler declares the shape of its draws in :attr:`Sampler.shape`:
``()`` (one number) for the scalar samplers, ``shape=`` for the array samplers and a
:class:`LambdaSampler` (default ``()``), the common shape of the values for a
:class:`DiscreteSampler` over equally shaped arrays. A type-augmented observation
gets one entry per element of that shape. A draw whose shape differs from the declared
one (or that leaves the declared bounds) is refused when the supertype is sampled, with
the field named; see :meth:`Sampler.check_draw`.

**Writing a sampler.** Subclass :class:`Sampler` (or :class:`ComparableSampler`) and
define ``sample(self, rng)``, drawing only from ``rng``; Phantom's ``sample(self)``
also works, but phantomzoo cannot seed it.

Every constructor validates its parameters and raises
:class:`~phantomzoo.errors.SamplerError` naming the parameter and the fix.
"""

from __future__ import annotations

from .arrays import NormalArraySampler, UniformArraySampler
from .base import ComparableSampler, Sampler, Shared, draw_value
from .lambda_ import LambdaSampler
from .scalar import DiscreteSampler, NormalSampler, UniformFloatSampler, UniformIntSampler

__all__ = [
    "ComparableSampler",
    "DiscreteSampler",
    "LambdaSampler",
    "NormalArraySampler",
    "NormalSampler",
    "Sampler",
    "Shared",
    "UniformArraySampler",
    "UniformFloatSampler",
    "UniformIntSampler",
    "draw_value",
]

# The public path of every class is phantomzoo.samplers (reprs, docs, pickles).
for _cls in (
    ComparableSampler,
    DiscreteSampler,
    LambdaSampler,
    NormalArraySampler,
    NormalSampler,
    Sampler,
    Shared,
    UniformArraySampler,
    UniformFloatSampler,
    UniformIntSampler,
):
    _cls.__module__ = __name__
del _cls
