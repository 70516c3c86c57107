"""Shared fixtures: the built `twofour` tool (ctest passes its path in TWOFOUR_TOOL) and a helper
that runs it, so that every binding can be compared with the tool on the same input."""
import os
import pathlib
import subprocess

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def _tool_path():
    env = os.environ.get("TWOFOUR_TOOL")
    if env:
        return env
    for candidate in (REPO / "build" / "release" / "twofour", REPO / "build" / "debug" / "twofour"):
        if candidate.exists():
            return str(candidate)
    return None


@pytest.fixture(scope="session")
def tool():
    path = _tool_path()
    if path is None:
        pytest.fail("the twofour tool was not found: set TWOFOUR_TOOL (ctest does) or build build/release")

    def run(*args, expect=0):
        r = subprocess.run([path, *map(str, args)], capture_output=True, text=True, check=False)
        if expect is not None and r.returncode != expect:
            raise AssertionError(f"twofour {' '.join(map(str, args))} exited {r.returncode}, expected {expect}:\n"
                                 f"{r.stdout}{r.stderr}")
        return r

    return run


@pytest.fixture
def rng(request):
    """A generator seeded from TWOFOUR_SEED (default 1) and the test's name, printed on failure."""
    seed = int(os.environ.get("TWOFOUR_SEED", "1"))
    return np.random.default_rng([seed, sum(map(ord, request.node.name))])


def tool_error(result):
    """The message after 'twofour: error: ' on the tool's stderr."""
    line = result.stderr.strip().splitlines()[-1]
    prefix = "twofour: error: "
    assert line.startswith(prefix), result.stderr
    return line[len(prefix):]
