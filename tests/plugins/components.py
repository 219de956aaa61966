"""Optional components of the test machine: skip without them locally, fail without them in CI.

A developer without Chromium still runs the rest of the suite: the browser test skips and says how to
install it. In CI (``CI=true``, which GitHub Actions sets on every runner) a skip would hide a test that
never ran, so a missing component fails the run instead.
"""

import importlib
import os
import shutil
from types import ModuleType
from typing import NoReturn

import pytest

CI_FAILURE = '{0} (CI=true: a missing component fails the run instead of skipping the test)'


def running_in_ci() -> bool:
    """Whether the tests run in CI, by the variable CI services set (``CI=true``)."""
    return os.environ.get('CI', '').lower() == 'true'


def missing_component(reason: str) -> NoReturn:
    """Skip the test (or the module, at import) for want of a component; in CI fail instead."""
    if running_in_ci():
        pytest.fail(CI_FAILURE.format(reason), pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def import_component(module_name: str, reason: str) -> ModuleType:
    """Import an optional module, or report it missing (a skip, or a failure in CI)."""
    try:
        return importlib.import_module(module_name)
    except ImportError:
        missing_component(reason)


def find_program(env_name: str, *names: str) -> str | None:
    """The program the environment variable ``env_name`` names, else the first of ``names`` on PATH."""
    configured = os.environ.get(env_name)
    if configured:
        return shutil.which(configured)
    for name in names:
        found = shutil.which(name)
        if found is not None:
            return found
    return None
