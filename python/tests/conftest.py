"""Shared fixtures of the physgen Python tests: the CLI of the same build, a temp dir."""
import json
import os
import pathlib
import subprocess

import pytest

import physgen

# Bitwise comparisons with the CLI need the same reduction order: one thread on both sides.
physgen.set_threads(1)

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cli_path():
    p = os.environ.get("PHYSGEN_CLI", str(ROOT / "build" / "physgen"))
    if not os.path.exists(p):
        pytest.fail(f"the physgen CLI is not at {p} (set PHYSGEN_CLI)")
    return p


@pytest.fixture
def cli():
    """Runs `physgen ARGS...`; returns stdout, or the parsed JSON with as_json=True."""
    exe = cli_path()

    def run(*args, as_json=False):
        r = subprocess.run([exe, *map(str, args), "--threads", "1"], capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"physgen {' '.join(map(str, args))} failed: {r.stderr}")
        return json.loads(r.stdout) if as_json else r.stdout

    return run
