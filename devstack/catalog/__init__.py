"""A local, DummyJSON-compatible products API for development and tests.

- ``CatalogGenerator``: seeded synthetic products, any size, generated lazily per id
- ``Catalog``: the generator plus mutation overlays and DummyJSON's query semantics
- ``CatalogServer``: the HTTP server (in-process, background thread) with fault injection
- ``CatalogControl``: a client for a server's ``/__control`` API in another process

Run it with ``python -m devstack.catalog --port 8700 --seed 42 --count 194``.
"""

from devstack.catalog.catalog import DELETE_MARKER, MUTATION_OPS, Catalog, MutationError
from devstack.catalog.control import CatalogControl, ControlError
from devstack.catalog.faults import FaultConfigError, FaultInjector, FaultRule
from devstack.catalog.generator import CatalogGenerator
from devstack.catalog.server import CatalogServer

__all__ = [
    "DELETE_MARKER",
    "MUTATION_OPS",
    "Catalog",
    "CatalogControl",
    "CatalogGenerator",
    "CatalogServer",
    "ControlError",
    "FaultConfigError",
    "FaultInjector",
    "FaultRule",
    "MutationError",
]
