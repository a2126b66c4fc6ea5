"""The sequence examples train on tiny settings: the char LM beats the unigram baseline, the
classifiers beat chance by far, and the packed / masked models ignore padding exactly."""
import os
import sys

import numpy as np
import pytest

import ember

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "examples"))
import char_lm  # noqa: E402
import seq_classify  # noqa: E402

TINY_LM = ["--chars", "30000", "--steps", "60", "--hidden", "48", "--layers", "1", "--seq-len", "32",
           "--batch-size", "32", "--eval-every", "1000", "--sample-len", "40", "--threads", "1"]


@pytest.mark.parametrize("model", ["lstm", "gru", "transformer"])
def test_char_lm_beats_unigram(model, capsys):
    result = char_lm.main(["--model", model] + TINY_LM)
    assert result["val_loss"] < result["unigram"] - 0.2, result
    assert result["sample"].startswith("def ") and len(result["sample"]) == 44
    assert "unigram baseline" in capsys.readouterr().out


def test_sampling_temperature_and_top_k():
    vocab = char_lm.Vocab("abcdef")

    class Fixed(ember.nn.Module):  # logits favour 'a' then 'b'; top-k 1 is greedy
        def forward(self, x, state=None):
            z = ember.tensor([[5.0, 4.0, 0.0, 0.0, 0.0, 0.0]]).expand(x.shape[1], 6).unsqueeze(0)
            return z, None
    rng = np.random.default_rng(0)
    assert char_lm.sample(ember, Fixed(), vocab, "c", 5, 1.0, 1, 8, rng) == "caaaaa"
    out = char_lm.sample(ember, Fixed(), vocab, "c", 200, 5.0, 2, 8, rng)
    assert set(out[1:]) == {"a", "b"}


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_seq_classify(model):
    result = seq_classify.main(["--model", model, "--train", "1200", "--test", "300", "--epochs", "2",
                                "--threads", "1"])
    assert result["accuracy"] > 0.8
    # padding never changes a sequence's prediction: batched logits equal one-at-a-time logits
    m = result["model"]
    m.eval()
    rng = np.random.default_rng(1)
    seqs, _ = seq_classify.make_data(6, 4, 4, rng)
    with ember.no_grad():
        tokens, lengths = seq_classify.collate(ember, seqs)
        batched = m(tokens, lengths).numpy()
        for i, s in enumerate(seqs):
            t, n = seq_classify.collate(ember, [s])
            np.testing.assert_allclose(m(t, n).numpy()[0], batched[i], rtol=1e-4, atol=1e-5)
