"""benchmarks/train_peer.py without PyTorch (CI never installs it): it names the exact command that
installs the peer, and rejects bad usage with exit code 2."""
import importlib.util
import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "train_peer.py"


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=False)


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="this interpreter has torch")
def test_without_torch_it_prints_the_install_command(tmp_path):
    venv = tmp_path / "no-venv"
    r = run("--venv", venv, "--images", 256)
    assert r.returncode == 1
    assert f"{SCRIPT} --install-peer --venv {venv}" in r.stderr
    assert not venv.exists()  # nothing is created without --install-peer


@pytest.mark.parametrize("args", [["--threads", "one"], ["--models", "resnet"], ["--phases", "sparse"],
                                  ["--images", "1"], ["--threads", "0"]])
def test_bad_usage_exits_2(args, tmp_path):
    r = run("--venv", tmp_path / "no-venv", *args)
    assert r.returncode == 2
    assert "train_peer.py" in r.stderr
