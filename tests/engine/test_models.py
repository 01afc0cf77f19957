"""Models and losses: the article's 0.98, analytic gradients against central finite differences."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from gd_studio.engine import losses, models
from gd_studio.engine.errors import ConfigError


def test_article_cat_dog_squared_error_is_0_98():
    # the photo is a cat; the network says 0.7 dog, 0.3 cat (outputs ordered cat, dog)
    probs = np.array([[0.3, 0.7]])
    onehot = np.array([[1.0, 0.0]])
    assert losses.squared_error(probs, onehot)[0] == pytest.approx(0.98, abs=1e-15)


def test_cross_entropy_and_mse_closed_forms():
    probs = np.array([[0.25, 0.75], [0.5, 0.5]])
    onehot = np.array([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(losses.cross_entropy(probs, onehot), [-np.log(0.75), np.log(2.0)])
    np.testing.assert_allclose(losses.mse(np.array([1.0, -2.0]), np.array([0.5, 1.0])), [0.25, 9.0])


def _data(task, n=23, d=3, k=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.normal(size=n) if task == "regression" else rng.integers(0, k, size=n)
    return X, y


def _central_difference(model, p, X, y, h=1e-6):
    g = np.empty_like(p)
    for i in range(p.size):
        e = np.zeros_like(p)
        e[i] = h
        g[i] = (model.loss(p + e, X, y) - model.loss(p - e, X, y)) / (2 * h)
    return g


CASES = [
    ("one_weight", 1, 1, (), "tanh", "mse"),
    ("linear", 3, 1, (), "tanh", "mse"),
    ("linear", 3, 3, (), "tanh", "cross_entropy"),
    ("logistic", 3, 3, (), "tanh", "cross_entropy"),
    ("logistic", 3, 2, (), "tanh", "squared_error"),
] + [("mlp", 3, k, (5, 4), act, loss)
     for act, (k, loss) in itertools.product(("tanh", "relu", "sigmoid"),
                                              ((3, "cross_entropy"), (3, "squared_error"), (1, "mse")))]


@pytest.mark.parametrize("kind,d,k,hidden,act,loss", CASES)
def test_gradient_matches_central_differences(kind, d, k, hidden, act, loss):
    task = "regression" if k == 1 else "classification"
    X, y = _data(task, d=d, k=k)
    m = models.make(kind, d, k, hidden=hidden, activation=act, loss=loss)
    p = m.init_params(3) + np.random.default_rng(4).normal(scale=0.1, size=m.n_params)
    value, grad = m.loss_and_grad(p, X, y)
    assert value == pytest.approx(m.loss(p, X, y), rel=1e-13)
    fd = _central_difference(m, p, X, y)
    rel = np.linalg.norm(grad - fd) / max(np.linalg.norm(fd), 1e-12)
    assert rel < 1e-6, rel


def test_param_names_one_per_entry_and_locate():
    m = models.make("mlp", 2, 3, hidden=(4,), activation="tanh")
    assert m.n_params == 2 * 4 + 4 + 4 * 3 + 3 == len(m.param_names)
    assert m.param_names[0] == "W1[0,0]" and m.param_names[5] == "W1[1,1]"
    assert m.locate(m.index_of("b1[2]")) == (0, "b", 0, 2)
    assert m.locate(m.index_of("W2[3,1]")) == (1, "W", 3, 1)
    assert models.make("one_weight", 1, 1, loss="mse").param_names == ("w",)


def test_one_weight_model_is_the_articles_parabola():
    x = np.linspace(-1, 1, 11)[:, None]
    y = 2.0 * x[:, 0]
    m = models.make("one_weight", 1, 1, loss="mse")
    for w in (-1.0, 0.5, 2.0, 3.0):
        # L(w) = mean((w − 2)² x²) = (w − 2)² · mean(x²)
        assert m.loss(np.array([w]), x, y) == pytest.approx((w - 2.0) ** 2 * np.mean(x ** 2), abs=1e-15)


def test_predict_gives_probabilities_and_init_is_seeded():
    m = models.make("mlp", 2, 4, hidden=(8, 8), activation="relu")
    X, _ = _data("classification", d=2, k=4)
    p = m.init_params(7)
    np.testing.assert_array_equal(p, m.init_params(7))
    assert not np.array_equal(p, m.init_params(8))
    probs = m.predict(p, X)
    assert probs.shape == (X.shape[0], 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_large_logits_stay_finite():
    m = models.make("logistic", 2, 2, loss="cross_entropy")
    p = np.array([1e4, -1e4, -1e4, 1e4, 0.0, 0.0])
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    value, grad = m.loss_and_grad(p, X, np.array([1, 1]))
    assert np.isfinite(value) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("args,kwargs,fragment", [
    (("perceptron", 2, 2), {}, "unknown kind"),
    (("mlp", 2, 2), {"hidden": ()}, "at least one hidden layer"),
    (("mlp", 2, 2), {"activation": "gelu"}, "activation"),
    (("mlp", 2, 2), {"loss": "mse"}, "does not fit classification"),
    (("one_weight", 2, 1), {"loss": "mse"}, "exactly one feature"),
    (("mlp", 64, 10), {"hidden": (4096, 4096)}, "too large"),
])
def test_bad_model_settings_raise_config_error(args, kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        models.make(*args, **kwargs)


def test_reused_buffers_are_per_thread_and_per_batch_size():
    import threading

    m = models.make("mlp", 3, 3, hidden=(7, 5), activation="tanh")
    p = m.init_params(0)
    batches = [_data("classification", n=n, d=3, k=3, seed=n) for n in (5, 9, 5, 2000)]
    expected = [m.loss_and_grad(p, X, y) for X, y in batches]
    again = [m.loss_and_grad(p, X, y) for X, y in batches]  # buffers reused, results unchanged
    for (l1, g1), (l2, g2) in zip(expected, again):
        assert l1 == l2 and np.array_equal(g1, g2)
    failures = []

    def work():
        for _ in range(30):
            for (X, y), (loss, grad) in zip(batches, expected):
                got_loss, got_grad = m.loss_and_grad(p, X, y)
                if got_loss != loss or not np.array_equal(got_grad, grad):
                    failures.append(1)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
