"""sculpt_sklearn.keras as a package: an optional extra, never imported by the rest."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

KERAS_DIR = Path(__file__).resolve().parent.parent / "sculpt_sklearn" / "keras"


def run(code, **env):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_import_sculpt_sklearn_does_not_import_keras():
    code = (
        "import sys, sculpt_sklearn; from sculpt_sklearn import *; "
        "sculpt_sklearn.SculptRegressor; sculpt_sklearn.sculpt.Wrapper; "
        "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))"
    )
    assert run(code) == "[]"


def test_a_missing_keras_gets_an_error_that_says_what_to_install():
    # sys.modules["keras"] = None makes `import keras` fail as if it were not installed.
    code = (
        "import sys; sys.modules['keras'] = None\n"
        "import sculpt_sklearn\n"
        "try:\n    import sculpt_sklearn.keras\nexcept ImportError as e:\n    print(e)\n"
    )
    assert "pip install 'sculpt-sklearn[keras]'" in run(code)


def test_the_keras_layer_loads_lazily_from_the_package():
    pytest.importorskip("keras")
    code = "import sculpt_sklearn; print(sculpt_sklearn.keras.Wrapper.__module__)"
    assert run(code) == "sculpt_sklearn.keras.wrapper"


def test_the_keras_layer_uses_keras_ops_only():
    """No backend (torch, tensorflow, jax) and no torch layer in sculpt_sklearn.keras."""
    forbidden = ("torch", "tensorflow", "jax", "sculpt_sklearn.sculpt", "numpy.random")
    for path in sorted(KERAS_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            else:
                continue
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
                assert not name.startswith(".."), f"{path.name} imports {name}"
