"""The .gdrange file (round trips, strict reading) and curves recorded by fastai, Lightning and torch-lr-finder."""
from __future__ import annotations

import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

from gd_studio.engine import lr_finder, rangefile
from gd_studio.engine.config import RunConfig
from gd_studio.engine.descent import build
from gd_studio.engine.lr_finder import CurveError
from gd_studio.engine.rangefile import RangeFileError


@pytest.fixture(scope="module")
def session():
    return build(RunConfig(dataset="moons", hidden=(8,)))


@pytest.fixture(scope="module")
def single(session):
    return lr_finder.range_test(session.model, session.train, session.initial_params, 1e-4, 10, 60,
                                val_ds=session.val)


@pytest.fixture(scope="module")
def repeated(session):
    return lr_finder.repeat_range_test(session.model, session.train, session.initial_params, seeds=(0, 1, 2),
                                       start_lr=1e-4, end_lr=10, num_iter=60)


def test_a_single_run_round_trips_bit_for_bit(single, tmp_path):
    path = single.save(tmp_path / "run.gdrange", meta={"model": "mlp 8", "note": ["a", 1, None, True]})
    back = rangefile.load(path)
    assert isinstance(back, lr_finder.RangeTestResult) and back.repeat is None and back.band is None
    for name in ("lrs", "losses", "smoothed", "val_losses"):
        np.testing.assert_array_equal(getattr(back, name), getattr(single, name))
    assert back.suggestions == single.suggestions
    for name in ("stop_reason", "stop_kind", "mode", "start_lr", "end_lr", "num_iter", "seed", "initial_loss",
                 "batch_size", "optimizer"):
        assert getattr(back, name) == getattr(single, name), name
    assert back.meta["model"] == "mlp 8" and back.meta["note"] == ["a", 1, None, True]
    assert back.path == str(path) and back.notes == ()
    # saving what was loaded writes the same bytes
    again = back.save(tmp_path / "again.gdrange")
    assert again.read_bytes() == path.read_bytes()


def test_repeats_round_trip_with_band_and_spread(repeated, tmp_path):
    path = repeated.save(tmp_path / "rep.gdrange")
    back = rangefile.load(path)
    np.testing.assert_array_equal(back.losses, repeated.median)
    np.testing.assert_array_equal(back.band[0], repeated.low)
    np.testing.assert_array_equal(back.band[1], repeated.high)
    np.testing.assert_array_equal(back.repeat.curves, repeated.curves)
    assert back.suggestions == repeated.suggestions and back.repeat.spread == repeated.spread
    assert back.repeat.seeds == (0, 1, 2)
    assert back.describe("steepest").endswith(f"(runs: {repeated.describe('steepest')})")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "gd-studio-range-test" and doc["version"] == 1
    assert len(doc["repeats"]["runs"]) == 3 and doc["repeats"]["band"] == repeated.band
    labels = dict(back.summary())
    assert labels["runs"].startswith("3,")


def test_suggestions_are_recomputed_with_the_current_rules(single, tmp_path):
    doc = rangefile.to_document(single)
    doc["suggestions"]["steepest"] = 123.0  # as if an older version's rules had said so
    path = tmp_path / "old.gdrange"
    path.write_text(json.dumps(doc), encoding="utf-8")
    back = rangefile.load(path)
    assert back.suggestions == single.suggestions
    assert any("steepest" in n for n in back.notes)


def _write(tmp_path, doc, name="f.gdrange"):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def _broken(doc, change):
    d = json.loads(json.dumps(doc))
    change(d)
    return d


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format="something else"), r"\$\.format: not a GD Studio range-test file"),
    (lambda d: d.update(version=2), r"\$\.version: written by a newer GD Studio \(format version 2\)"),
    (lambda d: d.update(version="1"), r"\$\.version: expected a whole number"),
    (lambda d: d.pop("curve"), r"\$: missing 'curve'"),
    (lambda d: d.update(extra=1), r"\$: unknown key 'extra'"),
    (lambda d: d["curve"]["losses"].__setitem__(3, "abc"), r"\$\.curve\.losses\[3\]: expected a number, got 'abc'"),
    (lambda d: d["curve"]["losses"].__setitem__(2, None), r"\$\.curve\.losses\[2\]: expected a number, got null"),
    (lambda d: d["curve"]["losses"].pop(), r"\$\.curve\.losses: \d+ values for \d+ learning rates"),
    (lambda d: d["curve"]["lrs"].__setitem__(5, d["curve"]["lrs"][4]), r"\$\.curve\.lrs\[5\]: learning rates must increase"),
    (lambda d: d["curve"]["lrs"].__setitem__(0, -1.0), r"\$\.curve\.lrs\[0\]: learning rates must be above 0"),
    (lambda d: d["test"].update(mode="cosine"), r"\$\.test\.mode: expected one of exp, linear"),
    (lambda d: d["test"].update(start_lr=0), r"\$\.test\.start_lr: expected a number above 0"),
    (lambda d: d["curve"].update(stop_kind="bored"), r"\$\.curve\.stop_kind"),
    (lambda d: d.update(meta=[1]), r"\$\.meta: expected an object"),
    (lambda d: d.update(suggestions={"steepest": "fast"}), r"\$\.suggestions\.steepest: expected a number"),
])
def test_every_problem_names_the_file_and_the_json_path(single, tmp_path, change, message):
    path = _write(tmp_path, _broken(rangefile.to_document(single), change))
    with pytest.raises(RangeFileError, match=message) as err:
        rangefile.load(path)
    assert str(err.value).startswith(f"{path}: ")


def test_repeat_runs_are_validated_too(repeated, tmp_path):
    doc = rangefile.to_document(repeated)
    doc["repeats"]["runs"][1]["losses"][0] = True
    with pytest.raises(RangeFileError, match=r"\$\.repeats\.runs\[1\]\.losses\[0\]: expected a number, got true"):
        rangefile.load(_write(tmp_path, doc))
    doc = rangefile.to_document(repeated)
    doc["repeats"]["runs"] = doc["repeats"]["runs"][:1]
    with pytest.raises(RangeFileError, match=r"\$\.repeats\.runs: expected a list of at least two runs"):
        rangefile.load(_write(tmp_path, doc))


@pytest.mark.parametrize("text, message", [
    ("", r"not valid JSON at line 1, column 1"),
    ('{"format": "gd-studio-range-test",\n "version": 1,', r"not valid JSON at line 2"),
    ('{"a": NaN}', r"NaN is not a number JSON allows"),
    ('{"a": 1, "a": 2}', r"key 'a' appears twice"),
    ("[" * 100000 + "]" * 100000, r"not a range-test file"),
    ("lr,loss\n1e-3,0.5\n", r"not valid JSON"),
])
def test_malformed_text_gets_one_clear_line(tmp_path, text, message):
    with pytest.raises(RangeFileError, match=message):
        rangefile.load(_write(tmp_path, text))


def test_files_that_are_not_regular_or_too_big_are_refused(tmp_path, monkeypatch, single):
    with pytest.raises(RangeFileError, match="no such file"):
        rangefile.load(tmp_path / "missing.gdrange")
    with pytest.raises(RangeFileError, match="is a folder, not a regular file"):
        rangefile.load(tmp_path)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.gdrange"
        os.mkfifo(fifo)
        with pytest.raises(RangeFileError, match="not a regular file"):  # and does not block
            rangefile.load(fifo)
    (tmp_path / "bin.gdrange").write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(RangeFileError, match="not UTF-8"):
        rangefile.load(tmp_path / "bin.gdrange")
    path = single.save(tmp_path / "ok.gdrange")
    monkeypatch.setattr(rangefile, "MAX_BYTES", 1000)
    with pytest.raises(RangeFileError, match="too large for a range-test file"):
        rangefile.load(path)


def test_save_refuses_what_json_cannot_hold_and_reports_write_errors(single, tmp_path):
    with pytest.raises(RangeFileError, match=r"meta\.bad is nan"):
        single.save(tmp_path / "x.gdrange", meta={"bad": float("nan")})
    with pytest.raises(RangeFileError, match=r"meta\.obj is a object"):
        single.save(tmp_path / "x.gdrange", meta={"obj": object()})
    with pytest.raises(RangeFileError, match="cannot write"):
        single.save(tmp_path / "no" / "such" / "dir.gdrange")
    assert not list(tmp_path.glob(".*tmp"))


# -- curves from other finders ------------------------------------------------------------------------
def _raw_curve(n=80, seed=0):
    """A range-test-like raw curve: flat, a drop, a minimum, then a blow-up, with mini-batch noise."""
    rng = np.random.default_rng(seed)
    lrs = np.geomspace(1e-5, 1.0, n)
    x = np.log10(lrs)
    clean = 2.0 - 1.5 / (1 + np.exp(-(x + 3) * 3)) + np.exp((x + 0.6) * 6)
    return lrs, clean + rng.normal(0, 0.03, n)


def _debiased_ema(x, beta):
    out, a = [], 0.0
    for t, v in enumerate(x, start=1):
        a = beta * a + (1 - beta) * v
        out.append(a / (1 - beta ** t))
    return out


def _plain_ema(x, f):
    out = [x[0]]
    for v in x[1:]:
        out.append(f * v + (1 - f) * out[-1])
    return out


def _same_as_engine(record, lrs, losses):
    np.testing.assert_allclose(record.losses, losses, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(record.lrs, lrs)
    expected = lr_finder.suggest_all(lrs, record.losses)
    assert record.suggestions == expected and expected["steepest"] is not None


def test_fastai_recorder_smoothing_is_undone_and_the_curve_aligned():
    lrs, raw = _raw_curve()
    recorder = SimpleNamespace(lrs=list(lrs), losses=[np.float32(v) for v in _debiased_ema(raw, 0.9)],
                               smooth_loss=SimpleNamespace(beta=0.9))
    record = rangefile.from_fastai(recorder)
    # fastai's losses are float32: the exact inverse recovers the raw curve to float32 precision
    np.testing.assert_allclose(record.losses, raw[1:], rtol=0, atol=2e-5)
    assert record.meta["source"] == "fastai" and record.meta["unsmoothed"] == {"beta": 0.9}
    exact = rangefile.from_fastai(SimpleNamespace(lrs=list(lrs), losses=_debiased_ema(raw, 0.98)))
    _same_as_engine(exact, lrs[:-1], raw[1:])
    as_is = rangefile.from_fastai(SimpleNamespace(lrs=lrs, losses=raw), beta=0, align=False)
    _same_as_engine(as_is, lrs, raw)


def test_lightning_results_smoothing_is_undone():
    lrs, raw = _raw_curve(seed=1)
    finder = SimpleNamespace(results={"lr": list(lrs), "loss": _debiased_ema(raw, 0.98)})
    record = rangefile.from_lightning(finder)
    _same_as_engine(record, lrs[:-1], raw[1:])
    assert record.meta["read"] == "results['lr'], results['loss']"
    with pytest.raises(CurveError, match="'lr' and 'loss'"):
        rangefile.from_lightning(SimpleNamespace(results={"lr": []}))


def test_torch_lr_finder_history_and_a_diverged_tail():
    lrs, raw = _raw_curve(seed=2)
    history = {"lr": list(lrs), "loss": _plain_ema(raw, 0.05)}
    _same_as_engine(rangefile.from_torch_lr_finder(history), lrs[:-1], raw[1:])
    _same_as_engine(rangefile.from_torch_lr_finder(SimpleNamespace(history=history)), lrs[:-1], raw[1:])
    nan_tail = {"lr": list(lrs), "loss": _plain_ema(raw, 0.05)[:70] + [float("nan")] * 10}
    record = rangefile.from_torch_lr_finder(nan_tail)
    assert record.stop_kind == "non_finite" and record.lrs.size == 69
    with pytest.raises(CurveError, match=r"history\['loss'\]\[2\]: expected a number"):
        rangefile.from_torch_lr_finder({"lr": [1, 2, 3], "loss": [1, 2, "x"]})
    with pytest.raises(CurveError, match="smooth_f must be from 0 to 1"):
        rangefile.from_torch_lr_finder(history, smooth_f=2)


def test_a_foreign_curve_saves_and_loads(tmp_path):
    lrs, raw = _raw_curve(seed=3)
    record = rangefile.from_curve(lrs, raw, source="my notebook")
    back = rangefile.load(record.save(tmp_path / "nb.gdrange"))
    np.testing.assert_array_equal(back.losses, raw)
    assert back.suggestions == record.suggestions and back.meta["source"] == "my notebook"


def test_snippets_for_an_engine_run_and_for_a_torch_run(single):
    from gd_studio.engine import snippets

    text = rangefile.snippet(single, 0.05, label="steepest")
    assert text.startswith("# steepest: lr = 0.05 from the range test\n")
    assert snippets.pytorch_snippet("sgd", None, 0.05) in text
    compile(text, "<snippet>", "exec")
    lrs, raw = _raw_curve()
    torch_run = rangefile.from_curve(lrs, raw, source="gd_studio.torch", meta={"lr_ratios": [0.25, 1.0]})
    text = rangefile.snippet(torch_run, 0.1, schedule="one_cycle", schedule_params={"max_lr": 1.0},
                             total_steps=500)
    compile(text, "<snippet>", "exec")
    assert "zip(optimizer.param_groups, [0.25, 1.0])" in text and 'group["lr"] = 0.1 * ratio' in text
    assert "OneCycleLR" in text and "total_steps=500" in text
    plain = rangefile.snippet(rangefile.from_curve(lrs, raw), 0.02)
    assert 'group["lr"] = 0.02' in plain
    with pytest.raises(lr_finder.ConfigError):
        rangefile.snippet(single, float("nan"))
