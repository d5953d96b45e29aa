"""Package-level behaviour: imports, public names, layering."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import sculpt_sklearn
from sculpt_sklearn import sculpt
from sculpt_sklearn.datasets import make_heteroscedastic


def test_torch_layer_imports_without_scikit_learn_or_skorch():
    code = (
        "import sys; from sculpt_sklearn import sculpt; "
        "sculpt.Wrapper(sculpt.Normal, n_layers=3); "
        "print(sorted(m for m in ('sklearn', 'skorch', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve():
    for name in ("SculptRegressor", "MLP", "datasets", "sculpt"):
        assert getattr(sculpt_sklearn, name) is not None
    with pytest.raises(AttributeError):
        sculpt_sklearn.NoSuchThing  # noqa: B018


def test_weighted_loss_is_a_weighted_mean_over_rows():
    y = torch.tensor([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]], dtype=torch.float64)
    m = torch.zeros_like(y)
    s = torch.ones_like(y)
    w = torch.tensor([1.0, 3.0, 0.0], dtype=torch.float64)
    nll = sculpt.Normal.nll(y, m, s)
    expected = (nll[0].mean() * 1 + nll[1].mean() * 3) / 4
    torch.testing.assert_close(sculpt.Normal.loss_function(y, m, s, sample_weight=w), expected)
    torch.testing.assert_close(sculpt.Normal.loss_function(y, m, s, sample_weight=7 * w),
                               expected)


@pytest.mark.parametrize("kwargs", [{"n_samples": True}, {"n_features": True}])
def test_make_heteroscedastic_rejects_bools(kwargs):
    with pytest.raises(ValueError):
        make_heteroscedastic(**kwargs)


# -- imports run downward only (issue 22) ---------------------------------------------

ROOT = Path(sculpt_sklearn.__file__).parent
FAMILY_MODULES = ["_base", "normal", "laplace", "studentt", "lognormal", "gamma",
                  "distributions", "mixture", "heads", "wrapper", "pool"]


@pytest.mark.parametrize("name", FAMILY_MODULES)
def test_each_torch_layer_module_imports_on_its_own(name):
    # Each file of the torch layer imports in a fresh interpreter, also without the
    # package's __init__ having imported the others first (an import cycle fails there:
    # "cannot import name ... from partially initialized module").
    bare = (
        "import importlib, sys, types\n"
        f"root = {str(ROOT)!r}\n"
        "for name, path in (('sculpt_sklearn', root), ('sculpt_sklearn.sculpt', root + '/sculpt')):\n"
        "    module = types.ModuleType(name); module.__path__ = [path]; sys.modules[name] = module\n"
        f"importlib.import_module('sculpt_sklearn.sculpt.{name}')\n"
    )
    for code in (f"import sculpt_sklearn.sculpt.{name}", bare):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr


def _imported_modules(path: Path) -> set[str]:
    """The sculpt_sklearn modules a file imports (anywhere in it), as dotted names."""
    package = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("sculpt_sklearn")}


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        # The torch layer imports nothing of the estimator's side.
        ("sculpt", r"sculpt_sklearn\.(?!sculpt\b)"),
        # Metrics sit below the estimators, the calibration and the plots.
        ("metrics", r"sculpt_sklearn\.(regressor|calibration|pipeline|dask|plotting)\b"),
    ],
)
def test_no_import_runs_upward(layer, forbidden):
    upward = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / layer).glob("*.py")
        for name in _imported_modules(path)
        if re.match(forbidden, name)
    }
    assert upward == set()
