"""Small helpers shared by the device tests (tests/test_device_*.py)."""
import ember


def flat_tensors(result):
    """Every Tensor in an op's result, in order (tensors, nested tuples and lists)."""
    if isinstance(result, ember.Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in flat_tensors(r)]
    return []
