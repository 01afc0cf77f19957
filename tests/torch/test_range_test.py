"""gd_studio.torch.range_test on real (tiny) networks: state restored bit for bit, engine rules, repeats, files."""
from __future__ import annotations

import copy
import random

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason='PyTorch is not installed (pip install "gd-studio[torch]")')

from gd_studio.engine import datasets, lr_finder, rangefile  # noqa: E402
from gd_studio.engine.errors import ConfigError  # noqa: E402
from gd_studio.torch import RangeTestProgress, range_test  # noqa: E402

nn = torch.nn


@pytest.fixture(scope="module")
def digits():
    ds, _, _ = datasets.standardize(datasets.make("digits"))
    X = torch.tensor(ds.X[:512], dtype=torch.float32)
    y = torch.tensor(ds.y[:512], dtype=torch.long)
    return X, y


def loader(digits, batch_size=32, shuffle=True, generator=None):
    X, y = digits
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=batch_size,
                                       shuffle=shuffle, generator=generator)


def mlp(seed=0, dropout=0.0, batchnorm=False):
    torch.manual_seed(seed)
    layers = [nn.Linear(64, 32)]
    if batchnorm:
        layers.append(nn.BatchNorm1d(32))
    layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 10)]
    return nn.Sequential(*layers)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        x = x.view(-1, 1, 8, 8)
        x = torch.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
        return self.head(x.flatten(1))


def setup_two_groups(model):
    """SGD with momentum, two param groups at different LRs, a StepLR attached and already stepped."""
    first, *rest = list(model.parameters())
    opt = torch.optim.SGD([{"params": [first], "lr": 0.05}, {"params": rest, "lr": 0.2}], momentum=0.9,
                          weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    return opt, sched


def train(model, opt, sched, batches, loss_fn=nn.CrossEntropyLoss()):
    model.train()
    for x, y in batches:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        sched.step()


def assert_same_tensors(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k


def assert_same_optimizer_state(a: dict, b: dict):
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for k in a["state"]:
        assert_same_tensors(a["state"][k], b["state"][k])


@pytest.mark.parametrize("make_model", [lambda: mlp(dropout=0.2, batchnorm=True), SmallCNN], ids=["mlp", "cnn"])
def test_everything_is_restored_bit_for_bit_and_training_continues_identically(digits, make_model):
    X, y = digits
    warmup = [(X[i:i + 32], y[i:i + 32]) for i in range(0, 128, 32)]
    torch.manual_seed(0)
    model = make_model()
    opt, sched = setup_two_groups(model)
    train(model, opt, sched, warmup)  # momentum buffers, BN statistics, a scheduler mid-way
    some_grad = next(model.parameters())
    some_grad.grad = torch.full_like(some_grad, 0.5)  # a gradient the caller left there
    model.eval()  # and the caller's mode
    twin, twin_opt, twin_sched = copy.deepcopy((model, opt, sched))

    gen = torch.Generator().manual_seed(7)
    data = loader(digits, generator=gen)
    before = dict(model=copy.deepcopy(model.state_dict()), opt=copy.deepcopy(opt.state_dict()),
                  sched=copy.deepcopy(sched.state_dict()), torch=torch.get_rng_state(), np=np.random.get_state(),
                  py=random.getstate(), gen=gen.get_state(), groups=opt.param_groups,
                  group0=opt.param_groups[0], opt_vars=set(vars(opt)))
    seen = []

    def watch(p: RangeTestProgress):
        seen.append((p.lr, [g["lr"] for g in opt.param_groups], next(model.parameters()).detach().clone()))

    result = range_test(model, opt, nn.CrossEntropyLoss(), data, start_lr=1e-4, end_lr=1.0, num_iter=30,
                        progress=watch, seed=3)
    # the test really trained: LRs applied with the groups' 1:4 ratio kept, weights moved
    assert len(seen) == result.lrs.size >= 25
    for lr, group_lrs, _ in seen:
        assert group_lrs[1] == lr and group_lrs[0] == pytest.approx(lr / 4, rel=1e-12)
    assert not torch.equal(seen[-1][2], before["model"][next(iter(before["model"]))])
    assert result.meta["lr_ratios"] == [0.25, 1.0] and result.meta["lr_group"] == 1

    assert_same_tensors(model.state_dict(), before["model"])
    assert_same_optimizer_state(opt.state_dict(), before["opt"])
    assert sched.state_dict() == before["sched"]
    assert torch.equal(torch.get_rng_state(), before["torch"])
    np_now = np.random.get_state()
    assert np_now[0] == before["np"][0] and np.array_equal(np_now[1], before["np"][1]) and np_now[2:] == before["np"][2:]
    assert random.getstate() == before["py"]
    assert torch.equal(gen.get_state(), before["gen"])
    assert opt.param_groups is before["groups"] and opt.param_groups[0] is before["group0"]
    assert set(vars(opt)) == before["opt_vars"]
    assert torch.equal(some_grad.grad, torch.full_like(some_grad, 0.5))
    assert [m.training for m in model.modules()] == [m.training for m in twin.modules()]

    # continue training both from here with the same data and dropout masks: identical to the last bit
    more = [(X[i:i + 32], y[i:i + 32]) for i in range(128, 320, 32)]
    for m, o, s in ((model, opt, sched), (twin, twin_opt, twin_sched)):
        m.zero_grad(set_to_none=True)
        torch.manual_seed(11)
        train(m, o, s, more)
    assert_same_tensors(model.state_dict(), twin.state_dict())
    assert_same_optimizer_state(opt.state_dict(), twin_opt.state_dict())
    assert sched.get_last_lr() == twin_sched.get_last_lr()


def test_state_is_restored_when_the_users_code_fails(digits):
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = copy.deepcopy(model.state_dict())
    calls = []

    def step_fn(m, batch):
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("user bug")
        x, y = batch
        return nn.functional.cross_entropy(m(x), y)

    with pytest.raises(RuntimeError, match="user bug"):
        range_test(model, opt, None, loader(digits), step_fn=step_fn, start_lr=1e-4, end_lr=1, num_iter=20,
                   progress=False)
    assert_same_tensors(model.state_dict(), before)
    assert opt.state_dict()["state"] == {}


def test_a_nan_stop_counts_its_lr_as_the_blow_up_like_the_engine_and_a_saved_file(digits):
    # Before the shared loop, the torch finder suggested from the finite points alone, so after a NaN/inf stop
    # its recommendation differed from the engine's rule and from the same result read back from its file.
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    ce = nn.CrossEntropyLoss()

    def step_fn(model, batch):  # a loss that turns NaN abruptly (as a float16 overflow does) past lr 0.5
        loss = ce(model(batch[0]), batch[1])
        return loss * float("nan") if opt.param_groups[0]["lr"] > 0.5 else loss

    r = range_test(model, opt, None, loader(digits), step_fn=step_fn, start_lr=1e-4, end_lr=10, num_iter=60,
                   progress=False)
    assert r.stop_kind == "non_finite" and r.lrs[-1] <= 0.5
    blowup = float(lr_finder.lr_grid(1e-4, 10, 60)[r.lrs.size])
    assert r.suggestions == lr_finder._suggest_curve(r.lrs, r.losses, r.smoothed, nonfinite_lr=blowup)
    assert r.suggestions["recommended"] != lr_finder.suggest_all(r.lrs, r.losses)["recommended"]
    assert lr_finder.RangeTestResult.from_dict(r.to_dict()).suggestions == r.suggestions


def test_suggestions_smoothing_and_stop_follow_the_engine(digits):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    r = range_test(model, opt, nn.CrossEntropyLoss(), loader(digits), start_lr=1e-4, end_lr=100, num_iter=80,
                   progress=False)
    assert isinstance(r, lr_finder.RangeTestResult)
    assert r.stop_kind in ("diverged", "non_finite") and r.lrs.size < 80
    np.testing.assert_array_equal(r.lrs, lr_finder.lr_grid(1e-4, 100, 80)[:r.lrs.size])
    assert r.suggestions == lr_finder.RangeTestResult.from_dict(r.to_dict()).suggestions
    assert r.suggestions["steepest"] is not None
    np.testing.assert_array_equal(r.smoothed, lr_finder.smooth_curve(r.losses, r.lrs))
    if r.stop_kind == "diverged":  # the engine's rule, replayed on the recorded losses, stops exactly there
        watch = lr_finder.DivergenceWatch(r.initial_loss)
        stops = [watch.update(v) for v in r.losses]
        assert stops[-1] and not any(stops[:-1])
    d = r.to_dict()
    assert d["lrs"] == [float(v) for v in r.lrs] and set(lr_finder.SUGGESTIONS) <= set(d["suggestions"])


def test_repeats_are_deterministic_and_summarised_like_the_engine(digits):
    def run(seed):
        model = mlp(dropout=0.1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        return range_test(model, opt, nn.CrossEntropyLoss(), loader(digits), start_lr=1e-3, end_lr=10,
                          num_iter=25, repeats=3, seed=seed, progress=False)

    a, b, c = run(4), run(4), run(5)
    assert a.repeat is not None and len(a.repeat.results) == 3 and a.repeat.seeds == (4, 5, 6)
    for ra, rb in zip(a.repeat.results, b.repeat.results):
        np.testing.assert_array_equal(ra.losses, rb.losses)
    assert not np.array_equal(a.repeat.results[0].losses, a.repeat.results[1].losses)  # different data orders
    np.testing.assert_array_equal(c.repeat.results[0].losses, a.repeat.results[1].losses)  # seed 5 is seed 5
    rep = lr_finder.summarize(a.repeat.results)
    np.testing.assert_array_equal(a.losses, rep.median)
    assert a.suggestions == rep.suggestions
    low, high = a.band
    assert (low <= a.losses).all() and (a.losses <= high).all() and (low < high).any()
    assert "×/÷" in a.describe("steepest")

    model = mlp(dropout=0.1)
    single = range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), loader(digits),
                        start_lr=1e-3, end_lr=10, num_iter=25, seed=4, progress=False)
    np.testing.assert_array_equal(single.losses, a.repeat.results[0].losses)


def test_a_list_of_batches_is_permuted_in_later_runs(digits):
    X, y = digits
    batches = [(X[i:i + 32], y[i:i + 32]) for i in range(0, 256, 32)]
    model = mlp()
    r = range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), batches,
                   start_lr=1e-3, end_lr=1, num_iter=12, repeats=2, progress=False)
    first, second = r.repeat.results
    assert not np.array_equal(first.losses, second.losses)
    assert "notes" not in r.meta


def test_accumulation_matches_a_batch_twice_as_big(digits):
    X, y = digits
    X, y = X.double(), y
    half = [(X[i:i + 16], y[i:i + 16]) for i in range(0, 320, 16)]
    full = [(X[i:i + 32], y[i:i + 32]) for i in range(0, 320, 32)]

    def run(batches, accumulation):
        model = mlp().double()
        return range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), batches,
                          start_lr=1e-3, end_lr=3, num_iter=20, accumulation_steps=accumulation, progress=False)

    a, b = run(half, 2), run(full, 1)
    assert a.lrs.size == b.lrs.size
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-9)
    assert a.initial_loss == pytest.approx(b.initial_loss, rel=1e-12)


def test_step_fn_takes_dict_batches_and_gives_the_same_curve(digits):
    X, y = digits
    tuples = [(X[i:i + 32], y[i:i + 32]) for i in range(0, 256, 32)]
    dicts = [{"pixels": a, "label": b} for a, b in tuples]

    def step_fn(model, batch):
        return nn.functional.cross_entropy(model(batch["pixels"]), batch["label"])

    model = mlp()
    a = range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), None, dicts, step_fn=step_fn,
                   val_loader=dicts[:2], start_lr=1e-3, end_lr=1, num_iter=15, progress=False)
    model = mlp()
    b = range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), tuples,
                   val_loader=tuples[:2], start_lr=1e-3, end_lr=1, num_iter=15, progress=False)
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.val_losses, b.val_losses)
    assert a.val_losses.size == a.losses.size

    with pytest.raises(ConfigError, match="step_fn"):
        range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), dicts,
                   start_lr=1e-3, end_lr=1, num_iter=5, progress=False)


def test_multiple_inputs_use_the_last_item_as_target(digits):
    X, y = digits

    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(32, 10), nn.Linear(32, 10)

        def forward(self, left, right):
            return self.a(left) + self.b(right)

    batches = [(X[i:i + 32, :32], X[i:i + 32, 32:], y[i:i + 32]) for i in range(0, 256, 32)]
    torch.manual_seed(0)
    model = TwoInputs()
    r = range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), batches,
                   start_lr=1e-3, end_lr=1, num_iter=10, progress=False)
    assert r.lrs.size == 10


def test_cancel_progress_and_the_terminal_line(digits, capsys):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = copy.deepcopy(model.state_dict())
    steps = []
    r = range_test(model, opt, nn.CrossEntropyLoss(), loader(digits), start_lr=1e-3, end_lr=1, num_iter=40,
                   repeats=3, progress=steps.append, cancel=lambda: len(steps) >= 5)
    assert r.stop_kind == "cancelled" and r.lrs.size == 5 and r.repeat is None
    assert [s.step for s in steps] == [0, 1, 2, 3, 4]
    assert_same_tensors(model.state_dict(), before)

    range_test(model, opt, nn.CrossEntropyLoss(), loader(digits), start_lr=1e-3, end_lr=1, num_iter=12, progress=True)
    err = capsys.readouterr().err
    assert err.endswith("\n") and "range test [" in err and "12/12" in err


def test_bad_arguments_are_refused_with_a_clear_message(digits):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    other = torch.optim.SGD(mlp(1).parameters(), lr=0.1)
    ce = nn.CrossEntropyLoss()
    cases = [
        (dict(optimizer=other), "not parameters of the model"),
        (dict(start_lr=1.0, end_lr=0.1), "start_lr"),
        (dict(repeats=0), "repeats"),
        (dict(accumulation_steps=0), "accumulation_steps"),
        (dict(train_loader=iter(loader(digits)), repeats=2), "one-shot"),
        (dict(loss_fn=nn.CrossEntropyLoss(reduction="none")), "scalar"),
        (dict(train_loader=[]), "no batches"),
        (dict(progress="yes"), "progress must be"),
        (dict(cancel=True), "cancel must be callable"),
        (dict(val_loader=iter([])), "val_loader is read after every step"),
    ]
    for change, message in cases:
        kw = dict(optimizer=opt, loss_fn=ce, train_loader=loader(digits), start_lr=1e-3, end_lr=1, num_iter=5,
                  progress=False)
        kw.update(change)
        with pytest.raises(ConfigError, match=message):
            range_test(model, kw.pop("optimizer"), kw.pop("loss_fn"), kw.pop("train_loader"), **kw)


def test_the_result_round_trips_through_a_file(digits, tmp_path):
    model = SmallCNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    r = range_test(model, opt, nn.CrossEntropyLoss(), loader(digits), val_loader=loader(digits, 256, False),
                   start_lr=1e-5, end_lr=1, num_iter=20, repeats=2, progress=False)
    path = r.save(tmp_path / "cnn.gdrange")
    back = rangefile.load(path)
    for name in ("lrs", "losses", "smoothed", "val_losses"):
        np.testing.assert_array_equal(getattr(back, name), getattr(r, name))
    np.testing.assert_array_equal(back.repeat.curves, r.repeat.curves)
    np.testing.assert_array_equal(back.band[0], r.band[0])
    assert back.suggestions == r.suggestions and back.repeat.spread == r.repeat.spread
    assert back.meta["model"].startswith("SmallCNN:") and back.meta["versions"]["torch"] == torch.__version__
    assert back.notes == () and back.stop_reason == r.stop_reason


def test_a_running_test_streams_into_a_file_a_window_can_watch(digits, tmp_path, monkeypatch):
    path = tmp_path / "live.gdrange"
    seen = []

    def peek(p: RangeTestProgress):
        if path.exists():
            record = rangefile.load(path)  # never half written: each write replaces the file whole
            seen.append((p.run, p.step, record.meta.get("live"), record.lrs.size))

    monkeypatch.setattr("gd_studio.torch.finder.STREAM_INTERVAL", 0.0)  # every step, for the test
    model = mlp()
    r = range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), loader(digits),
                   start_lr=1e-3, end_lr=1, num_iter=10, repeats=2, progress=peek, stream_to=path)
    # each step sees the file written at the previous one, marked live, growing
    live = [s for s in seen if s[2] is not None]
    assert live and all(s[2]["running"] for s in live)
    assert [s[3] for s in live if s[0] == 0] == list(range(1, 10))
    final = rangefile.load(path)
    assert "live" not in final.meta and final.repeat is not None
    np.testing.assert_array_equal(final.losses, r.losses)


def test_a_failed_run_leaves_the_stream_file_saying_so(digits, tmp_path):
    path = tmp_path / "live.gdrange"
    calls = []

    def step_fn(m, batch):
        calls.append(1)
        if len(calls) == 8:
            raise RuntimeError("out of memory, say")
        return nn.functional.cross_entropy(m(batch[0]), batch[1])

    model = mlp()
    with pytest.raises(RuntimeError):
        range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), None, loader(digits), step_fn=step_fn,
                   start_lr=1e-3, end_lr=1, num_iter=20, progress=False, stream_to=path)
    record = rangefile.load(path)
    assert record.meta["live"] == {"running": False, "failed": "out of memory, say"}
