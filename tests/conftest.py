import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def cuda_backend(monkeypatch):
    """The CUDA device for tests/test_device_*.py: real CuPy where there is a GPU, elsewhere the strict
    stand-in ``fake_cupy`` (NumPy arithmetic, CuPy's refusals)."""
    import ember
    if not ember.cuda.is_available():
        import fake_cupy
        fake_cupy.install(monkeypatch)
    yield
