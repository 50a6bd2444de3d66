"""The ASGI entry point uvicorn serves."""

import gc
import importlib


def test_startup_objects_are_frozen_out_of_the_collector() -> None:
    """Full collections walk only what requests create, not every module and model (a 50 ms pause
    in the middle of a fan-out otherwise)."""
    module = importlib.import_module("chatkitty_site.asgi")
    assert module.application is not None
    assert gc.get_freeze_count() > 10_000
