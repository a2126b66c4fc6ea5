"""AdaptiveLogSoftmaxWithLoss against torch with shared weights: output, loss, every gradient,
log_prob, predict, unbatched input, repr, state_dict keys and errors."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same, check_error


def _pair(head_bias=False):
    t = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10], div_value=2.0, head_bias=head_bias)
    e = ember.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10], div_value=2.0, head_bias=head_bias)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return e, t


@needs_torch
@pytest.mark.parametrize("head_bias", [False, True])
def test_forward_and_gradients_match_torch(head_bias):
    e, t = _pair(head_bias)
    assert repr(e) == repr(t) and list(e.state_dict()) == list(t.state_dict())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 16)).astype(np.float32)
    y = np.array([0, 3, 4, 9, 10, 19, 2, 5, 15, 1, 11, 7])
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = e(ex, ember.tensor(y)), t(tx, torch.tensor(y))
    assert_same(eo.output, to.output)
    assert_same(eo.loss, to.loss)
    eo.loss.backward()
    to.loss.backward()
    assert_same(ex.grad, tx.grad)
    for (name, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        assert_same(ep.grad, tp.grad)


@needs_torch
def test_log_prob_predict_and_unbatched_match_torch():
    e, t = _pair()
    x = np.random.default_rng(1).standard_normal((9, 16)).astype(np.float32) * 3
    assert_same(e.log_prob(ember.tensor(x)), t.log_prob(torch.tensor(x)))
    np.testing.assert_allclose(np.exp(e.log_prob(ember.tensor(x)).detach().numpy()).sum(1), 1, rtol=1e-5)
    assert_same(e.predict(ember.tensor(x)), t.predict(torch.tensor(x)))
    eo, to = e(ember.tensor(x[0]), ember.tensor(12)), t(torch.tensor(x[0]), torch.tensor(12))
    assert_same(eo.output, to.output)
    # torch's predict rejects 1-d input; ember answers it as the one-row batch
    assert e.predict(ember.tensor(x[0])).item() == t.predict(torch.tensor(x[:1])).item()


@needs_torch
def test_errors_match_torch():
    check_error(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3]))
    check_error(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [0, 3]))
    check_error(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 10]))
    check_error(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])(lib.ones(2, 8), lib.tensor([1, 10])))
    check_error(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])(lib.ones(3, 8), lib.tensor([1, 2])))
    check_error(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])(lib.ones(2, 8), lib.ones(2, 2).long()))
