"""``device="cuda"``: training and prediction on a GPU, and GPU models on CPU-only machines.

The tests marked ``needs_cuda`` run only where ``torch.cuda.is_available()``.
The others run on CPU-only machines: they pickle a CPU-trained estimator
whose tensors are *recorded* as CUDA tensors (torch's serialisation
registry tags their storages ``cuda:0``), which is byte for byte what a
GPU-trained pickle holds, and load it where CUDA is absent.
"""

from __future__ import annotations

import contextlib
import pickle
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterable, Iterator

import numpy as np
import pytest
import torch
import torch.serialization

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
cpu_only = pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks loading GPU pickles where CUDA is absent"
)


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_heteroscedastic(n_samples=300, random_state=0)
    return X.astype(np.float64), y


# ------------------------------------------------------------------ on a GPU
@needs_cuda
def test_fit_and_predict_on_cuda(data):
    X, y = data
    reg = SculptRegressor(device="cuda", max_epochs=20, random_state=0).fit(X, y)
    assert next(reg.module_.parameters()).device.type == "cuda"
    mean, risk = reg.predict(X, return_risk=True)
    assert isinstance(mean, np.ndarray) and mean.shape == y.shape
    assert np.all(np.isfinite(mean)) and np.all(risk > 0)
    lower, upper = reg.predict_interval(X, confidence_level=0.9)
    assert np.all(lower < upper)
    assert reg.score(X, y) > 0.0
    # partial_fit continues on the GPU
    reg.partial_fit(X, y)
    assert next(reg.module_.parameters()).device.type == "cuda"


@needs_cuda
def test_default_model_on_a_raw_frame_on_cuda(data, tmp_path):
    import pandas as pd

    X, y = data
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["colour"] = pd.Categorical(np.where(X[:, 0] > 0, "red", "blue"))
    frame.loc[::9, "b"] = np.nan
    reg = SculptRegressor(device="cuda", max_epochs=5, random_state=0).fit(frame, y)
    u = reg.predict_uncertainty(frame)
    assert np.all(u.epistemic > 0) and np.all(np.isfinite(u.total))
    path = tmp_path / "weights.pt"
    reg.save_params(path)
    cpu = SculptRegressor().load_params(path)  # GPU weights onto the CPU
    np.testing.assert_allclose(cpu.predict(frame), reg.predict(frame), rtol=1e-5, atol=1e-6)


@needs_cuda
def test_cuda_pickle_round_trip_on_gpu(data):
    X, y = data
    reg = SculptRegressor(device="cuda", max_epochs=3, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(reg))
    for a, b in zip(reg.predict(X, return_risk=True), loaded.predict(X, return_risk=True),
                    strict=True):
        np.testing.assert_array_equal(a, b)


@needs_cuda
def test_cuda_pickle_loads_in_a_cpu_only_process(data, tmp_path):
    X, y = data
    reg = SculptRegressor(device="cuda", max_epochs=3, random_state=0).fit(X, y)
    with open(tmp_path / "model.pkl", "wb") as f:
        pickle.dump(reg, f)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", np.stack(reg.predict(X, return_risk=True)))
    script = textwrap.dedent(
        """
        import pickle, sys, warnings
        import numpy as np, torch
        assert not torch.cuda.is_available()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # skorch's DeviceWarning: cuda -> cpu
            with open(sys.argv[1] + "/model.pkl", "rb") as f:
                reg = pickle.load(f)
        reg.set_params(device="cpu")
        got = np.stack(reg.predict(np.load(sys.argv[1] + "/X.npy"), return_risk=True))
        np.testing.assert_allclose(got, np.load(sys.argv[1] + "/expected.npy"), rtol=1e-5,
                                   atol=1e-6)
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env={**_env(), "CUDA_VISIBLE_DEVICES": ""},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]


def _env() -> dict[str, str]:
    import os

    return dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


# --------------------------------------------------------- on a CPU-only machine
@contextlib.contextmanager
def _recorded_as_cuda(tensors: Iterable[torch.Tensor]) -> Iterator[None]:
    """Make ``pickle`` record the storages of ``tensors`` as ``cuda:0`` ones.

    torch writes each storage's location from its serialisation registry;
    a tagger ahead of the CPU one names these storages ``cuda:0``, as a GPU
    model's are. Loading then needs CUDA unless a ``map_location`` is given,
    exactly as with a real GPU pickle.
    """
    pointers = {t.untyped_storage().data_ptr() for t in tensors}

    def tagger(storage: object) -> str | None:
        return "cuda:0" if storage.data_ptr() in pointers else None  # type: ignore[attr-defined]

    entry = (1, tagger, lambda storage, location: None)
    registry = torch.serialization._package_registry
    registry.append(entry)
    registry.sort(key=lambda e: e[0])
    try:
        yield
    finally:
        registry.remove(entry)


def _pickle_as_if_trained_on_cuda(reg: SculptRegressor) -> bytes:
    """The pickle ``reg`` would give had it been trained with ``device="cuda"``."""
    net = reg.net_
    tensors = list(net.module_.parameters()) + list(net.module_.buffers())
    for state in net.optimizer_.state.values():
        tensors += [v for v in state.values() if torch.is_tensor(v)]
    reg.device, net.device = "cuda", "cuda"
    try:
        with _recorded_as_cuda(tensors):
            return pickle.dumps(reg)
    finally:
        reg.device, net.device = "cpu", "cpu"


@cpu_only
def test_simulated_cuda_tensor_needs_cuda_to_load():
    """The simulation is faithful: a plain 'cuda' tensor fails to load without CUDA."""
    t = torch.ones(3)
    with _recorded_as_cuda([t]):
        blob = pickle.dumps(t)
    with pytest.raises(RuntimeError, match="CUDA"):
        pickle.loads(blob)


@cpu_only
def test_gpu_pickle_loads_on_cpu_only_machine(data):
    X, y = data
    reg = SculptRegressor(max_epochs=3, random_state=0).fit(X, y)
    expected = reg.predict(X, return_risk=True)
    blob = _pickle_as_if_trained_on_cuda(reg)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = pickle.loads(blob)
    assert any("CUDA" in str(w.message) or "cuda" in str(w.message) for w in caught)
    assert torch.device(loaded.net_.device).type == "cpu"
    assert next(loaded.module_.parameters()).device.type == "cpu"
    loaded.set_params(device="cpu")
    for a, b in zip(expected, loaded.predict(X, return_risk=True), strict=True):
        np.testing.assert_array_equal(a, b)
    loaded.partial_fit(X, y)  # and it trains on


@cpu_only
def test_gpu_pickle_predicts_on_cpu_without_set_params(data):
    X, y = data
    reg = SculptRegressor(max_epochs=3, random_state=0).fit(X, y)
    expected = reg.predict(X)
    blob = _pickle_as_if_trained_on_cuda(reg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = pickle.loads(blob)
    np.testing.assert_array_equal(loaded.predict(X), expected)


@cpu_only
def test_cuda_device_without_cuda_is_a_clear_error(data):
    X, y = data
    with pytest.raises(ValueError, match="CUDA"):
        SculptRegressor(device="cuda", max_epochs=1).fit(X, y)
