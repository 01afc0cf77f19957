"""Datasets: seeded generators, bundled Iris and digits, CSV loading with located errors, splits."""
from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from gd_studio.engine import datasets
from gd_studio.engine.datasets import Dataset, DatasetError
from gd_studio.engine.errors import GDStudioError

CLASSIFIERS = ("blobs", "moons", "circles", "xor", "spiral")
REGRESSORS = ("line", "sine")


# ---------------------------------------------------------------------------------------------- API


def test_error_type_is_a_gd_studio_error():
    assert issubclass(DatasetError, GDStudioError)
    assert issubclass(DatasetError, ValueError)
    assert datasets.DatasetError is DatasetError


def test_names_cover_every_generator_and_bundled_set():
    assert datasets.NAMES == ("line", "blobs", "moons", "circles", "xor", "spiral", "sine", "valley", "iris",
                              "digits")
    assert set(datasets.PARAMETERS) == set(datasets.NAMES) == set(datasets.DESCRIPTIONS)


def test_public_example_from_the_issue():
    ds = datasets.make("moons", n_samples=400, noise=0.2, seed=0)
    assert ds.X.shape == (400, 2) and ds.y.shape == (400,)
    assert ds.task == "classification" and ds.n_outputs == 2


# ----------------------------------------------------------------------------------------- generators


@pytest.mark.parametrize("name", datasets.GENERATORS)
def test_same_seed_gives_bit_identical_arrays(name):
    a = datasets.make(name, n_samples=123, noise=0.15, seed=7)
    b = datasets.make(name, n_samples=123, noise=0.15, seed=7)
    assert a.X.tobytes() == b.X.tobytes()
    assert a.y.tobytes() == b.y.tobytes()
    c = datasets.make(name, n_samples=123, noise=0.15, seed=8)
    assert c.X.tobytes() != a.X.tobytes()


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classification_generators_shapes_dtypes_and_balance(name):
    ds = datasets.make(name, n_samples=301, noise=0.1, seed=1)
    assert ds.task == "classification"
    assert ds.X.shape == (301, 2) and ds.X.dtype == np.float64 and ds.X.flags.c_contiguous
    assert ds.y.shape == (301,) and ds.y.dtype == np.int64
    assert ds.feature_names == ("x1", "x2")
    assert ds.n_classes == len(ds.class_names) == ds.n_outputs
    assert ds.y.min() == 0 and ds.y.max() == ds.n_classes - 1
    assert np.all(np.isfinite(ds.X))
    # Names sort in label order, so a CSV round trip (labels numbered in sorted order) keeps them.
    assert list(ds.class_names) == sorted(ds.class_names)
    counts = ds.class_counts()
    if name != "xor":  # xor's labels follow the random points' quadrants
        assert counts.max() - counts.min() <= 1
    assert ds.source == name and ds.name == name


@pytest.mark.parametrize("name", REGRESSORS)
def test_regression_generators(name):
    ds = datasets.make(name, n_samples=50, seed=3)
    assert ds.task == "regression" and ds.class_names == () and ds.n_classes == 0 and ds.n_outputs == 1
    assert ds.X.shape == (50, 1) and ds.y.dtype == np.float64 and ds.feature_names == ("x",)


def test_blobs_is_cat_vs_dog():
    ds = datasets.make("blobs", n_samples=200, noise=0.0, seed=0)
    assert ds.class_names == ("cat", "dog")
    cat, dog = ds.X[ds.y == 0].mean(axis=0), ds.X[ds.y == 1].mean(axis=0)
    assert np.all(cat < 0) and np.all(dog > 0)


def test_line_gives_a_parabola_with_minimum_near_the_slope():
    ds = datasets.make("line", n_samples=500, noise=0.1, seed=0)
    x, y = ds.X[:, 0], ds.y
    assert np.mean(x * x) == pytest.approx(1.0, rel=1e-12)  # curvature of mse along w is exactly 2
    w = np.linspace(0.0, 4.0, 401)
    loss = ((w[:, None] * x[None, :] - y[None, :]) ** 2).mean(axis=1)
    assert w[np.argmin(loss)] == pytest.approx(2.0, abs=0.02)
    assert np.allclose(np.diff(loss, 2), np.diff(loss, 2)[0])  # a parabola: constant second difference
    steep = datasets.make("line", n_samples=500, noise=0.0, seed=0, slope=-3.0)
    assert np.allclose(steep.y, -3.0 * steep.X[:, 0])


def test_noise_zero_puts_moons_and_circles_on_their_curves():
    circles = datasets.make("circles", n_samples=100, noise=0.0, seed=2, factor=0.3)
    radius = np.hypot(circles.X[:, 0], circles.X[:, 1])
    assert np.allclose(radius[circles.y == 0], 0.3) and np.allclose(radius[circles.y == 1], 1.0)
    moons = datasets.make("moons", n_samples=100, noise=0.0, seed=2)
    upper = moons.X[moons.y == 0]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    sine = datasets.make("sine", n_samples=100, noise=0.0, seed=2)
    assert np.allclose(sine.y, np.sin(sine.X[:, 0]))


def test_xor_labels_follow_the_quadrants_without_noise():
    ds = datasets.make("xor", n_samples=200, noise=0.0, seed=4)
    assert np.array_equal(ds.y, (np.sign(ds.X[:, 0]) != np.sign(ds.X[:, 1])).astype(np.int64))


@pytest.mark.parametrize("k", [2, 3, 7, 26])
def test_spiral_has_k_classes(k):
    ds = datasets.make("spiral", n_samples=260, n_classes=k, seed=0)
    assert ds.n_classes == k and ds.n_outputs == k
    assert np.array_equal(np.unique(ds.y), np.arange(k))
    assert ds.class_names[0] == "A" and ds.class_names[-1] == chr(ord("A") + k - 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_samples": 1}, "number of samples"),
        ({"n_samples": 1_000_001}, "number of samples"),
        ({"n_samples": 12.5}, "number of samples"),
        ({"n_samples": "many"}, "number of samples"),
        ({"n_samples": True}, "number of samples"),
        ({"noise": -0.1}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"noise": float("inf")}, "noise"),
        ({"noise": "loud"}, "noise"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"n_classes": 1}, "number of classes"),
        ({"n_classes": 27}, "number of classes"),
        ({"n_samples": 3, "n_classes": 5}, "needs at least 5"),
        ({"turns": 0}, "turns"),
        ({"bogus": 1}, "unknown parameter 'bogus'"),
    ],
)
def test_bad_generator_parameters_raise_dataset_error(kwargs, message):
    with pytest.raises(DatasetError, match=re.escape(message)):
        datasets.make("spiral", **kwargs)


def test_unknown_name_lists_the_choices():
    with pytest.raises(DatasetError, match="unknown name 'swiss roll'.*moons.*digits"):
        datasets.make("swiss roll")


def test_generator_specific_parameters_are_checked():
    with pytest.raises(DatasetError, match="factor"):
        datasets.make("circles", factor=1.0)
    with pytest.raises(DatasetError, match="slope"):
        datasets.make("line", slope=float("nan"))
    with pytest.raises(DatasetError, match="unknown parameter 'slope'"):
        datasets.make("moons", slope=2.0)
    with pytest.raises(DatasetError, match="unknown parameter 'n_samples'|unknown parameter 'turns'"):
        datasets.make("iris", turns=2)


def test_float_sample_count_from_json_is_accepted_and_name_is_case_insensitive():
    ds = datasets.make(" Moons ", n_samples=40.0)
    assert ds.n_samples == 40 and ds.name == "moons"


# --------------------------------------------------------------------------------------------- bundled


def test_iris_is_fishers_150_by_4():
    ds = datasets.make("iris")
    assert ds.X.shape == (150, 4) and ds.task == "classification"
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    assert ds.feature_names[0] == "sepal length (cm)" and ds.feature_names[3] == "petal width (cm)"
    assert ds.class_counts().tolist() == [50, 50, 50]
    assert ds.X[0].tolist() == [5.1, 3.5, 1.4, 0.2]
    assert ds.X.min() == pytest.approx(0.1) and ds.X.max() == pytest.approx(7.9)
    # Fisher's values for samples 35 and 38 (the UCI file has them wrong)
    assert ds.X[34].tolist() == [4.9, 3.1, 1.5, 0.2] and ds.X[37].tolist() == [4.9, 3.6, 1.4, 0.1]


def test_digits_is_1797_by_64_with_pixels_0_to_16():
    ds = datasets.make("digits")
    assert ds.X.shape == (1797, 64) and ds.n_classes == 10 and ds.n_outputs == 10
    assert ds.class_names == tuple(str(d) for d in range(10))
    assert ds.feature_names[0] == "pixel_0_0" and ds.feature_names[63] == "pixel_7_7"
    assert ds.X.min() == 0 and ds.X.max() == 16 and np.all(ds.X == np.round(ds.X))
    assert ds.class_counts().sum() == 1797 and ds.class_counts().min() >= 170


def test_bundled_sets_ignore_generator_settings_and_hand_out_copies():
    a = datasets.make("iris", n_samples=10, noise=3.0, seed=5)
    a.X[0, 0] = -99.0  # editing one copy must not reach the next caller
    b = datasets.make("iris")
    assert b.n_samples == 150 and b.X[0, 0] == 5.1


def test_bundled_data_comes_through_the_resource_resolver():
    import gd_studio

    assert gd_studio.resources_path("datasets", "iris.csv").is_file()
    assert gd_studio.resources_path("datasets", "digits.csv.gz").is_file()
    readme = gd_studio.resources_path("datasets", "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and "Fisher" in readme and "Alpaydin" in readme


# ------------------------------------------------------------------------------------------ load_csv


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_header_and_text_labels(tmp_path):
    path = write(tmp_path, "x1,x2,label\n1,2,dog\n3,4,cat\n5,6,dog\n7,8,bird\n")
    ds = datasets.load_csv(path, target="label")
    assert ds.feature_names == ("x1", "x2")
    assert ds.task == "classification" and ds.class_names == ("bird", "cat", "dog")
    assert ds.y.tolist() == [2, 1, 2, 0]
    assert ds.X.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]
    assert ds.name == "data" and ds.source == str(path)


def test_no_header_names_columns_col1_and_takes_the_last_as_target(tmp_path):
    path = write(tmp_path, "0.5,1.5,2.25\n1.5,2.5,3.75\n2,3,4.5\n")
    ds = datasets.load_csv(path)
    assert ds.feature_names == ("col1", "col2")
    assert ds.task == "regression" and ds.y.tolist() == [2.25, 3.75, 4.5]
    by_name = datasets.load_csv(path, target="col1")
    assert by_name.feature_names == ("col2", "col3") and by_name.y.tolist() == [0.5, 1.5, 2.0]


def test_text_label_column_without_header(tmp_path):
    path = write(tmp_path, "5.1,3.5,setosa\n7.0,3.2,versicolor\n6.3,3.3,virginica\n4.9,3.0,setosa\n")
    ds = datasets.load_csv(path)
    assert ds.feature_names == ("col1", "col2") and ds.n_samples == 4
    assert ds.class_names == ("setosa", "versicolor", "virginica") and ds.y.tolist() == [0, 1, 2, 0]


def test_target_by_index_and_case_insensitive_name(tmp_path):
    path = write(tmp_path, "Label,a,b\n1,0.5,7\n0,1.5,8\n1,2.5,9\n0,3.5,1\n")
    ds = datasets.load_csv(path, target=0)
    assert ds.feature_names == ("a", "b") and ds.y.tolist() == [1, 0, 1, 0]
    assert datasets.load_csv(path, target="label").y.tolist() == [1, 0, 1, 0]
    assert datasets.load_csv(path, target=-1).feature_names == ("Label", "a")


def numeric_target_file(tmp_path, values):
    lines = ["x,y"] + [f"{i},{v}" for i, v in enumerate(values)]
    return write(tmp_path, "\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "values, task, class_names",
    [
        ([0, 1, 1, 0, 1, 0], "classification", ("0", "1")),
        ([-1, 1, -1, 1], "classification", ("-1", "1")),
        ([3, 1, 2, 1, 3, 2, 1, 2], "classification", ("1", "2", "3")),
        ([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] * 2, "classification", tuple(str(i) for i in range(12))),
        ([0.5, 1.0, 0.5, 1.0, 0.5, 1.0], "regression", ()),  # not whole numbers
        ([1, 2, 3, 4, 5, 6], "regression", ()),  # as many values as rows: a measurement
        (list(range(21)) * 3, "regression", ()),  # more than 20 distinct whole numbers
    ],
)
def test_classification_or_regression_detection(tmp_path, values, task, class_names):
    ds = datasets.load_csv(numeric_target_file(tmp_path, values))
    assert ds.task == task and ds.class_names == class_names
    if task == "classification":
        assert ds.y.dtype == np.int64
        assert [ds.class_names[k] for k in ds.y] == [str(v) for v in values]
    else:
        assert ds.y.dtype == np.float64 and ds.y.tolist() == [float(v) for v in values]


def test_labels_sort_numerically_not_as_text(tmp_path):
    ds = datasets.load_csv(numeric_target_file(tmp_path, [10, 9, 2, 10, 9, 2]))
    assert ds.class_names == ("2", "9", "10") and ds.y.tolist() == [2, 1, 0, 2, 1, 0]


def test_semicolon_and_tab_delimiters_with_decimal_commas(tmp_path):
    semi = datasets.load_csv(write(tmp_path, "a;b;label\n1,5;2;x\n2,5;3;y\n0,25;1;x\n", "semi.csv"))
    assert semi.X.tolist() == [[1.5, 2.0], [2.5, 3.0], [0.25, 1.0]] and semi.class_names == ("x", "y")
    tab = datasets.load_csv(write(tmp_path, "a\tb\ty\n1\t2\t0.5\n3\t4\t1.5\n", "tab.tsv"))
    assert tab.feature_names == ("a", "b") and tab.y.tolist() == [0.5, 1.5]


def test_bom_crlf_quotes_whitespace_and_blank_lines(tmp_path):
    text = '\ufeff"x 1", x2 ,y\r\n 1 ,"2",0.5\r\n\r\n3,4,1.5\r\n,,\r\n'
    ds = datasets.load_csv(write(tmp_path, text))
    assert ds.feature_names == ("x 1", "x2") and ds.X.tolist() == [[1, 2], [3, 4]] and ds.y.tolist() == [0.5, 1.5]


def test_utf16_export_is_read(tmp_path):
    ds = datasets.load_csv(write(tmp_path, "a\tb\ty\n1\t2\t3.5\n4\t5\t6.5\n".encode("utf-16")))
    assert ds.X.tolist() == [[1, 2], [4, 5]] and ds.y.tolist() == [3.5, 6.5]


@pytest.mark.parametrize(
    "content, pattern",
    [
        ("", r"data\.csv: the file is empty"),
        ("  \n\n", r"data\.csv: the file is empty"),
        ("a,b,label\n", r"data\.csv: has a header \(line 1\) but no data rows"),
        ("a,b,label\n1,2,0\n", r"data\.csv: only one data row \(line 2\)"),
        ("1,2,0\n", r"data\.csv: only one data row \(line 1\)"),
        ("a,b,y\n1,2,0\n3,4\n5,6,1\n", r"data\.csv, line 3: 2 values where 3 are expected"),
        ("a,b,y\n1,2,0\n3,4,1,9\n", r"data\.csv, line 3: 4 values where 3 are expected"),
        ("a,b,y\n1,2,0\n3,four,1\n", r"data\.csv, line 3, column 'b': text 'four' where a number is expected"),
        ("a,b,y\n1,2,0\n3,4,1\nnan,1,0\n", r"data\.csv, line 4, column 'a': 'nan' is not a finite number"),
        ("a,b,y\n1,inf,0\n3,4,1\n", r"data\.csv, line 2, column 'b': 'inf' is not a finite number"),
        ("a,b,y\n1,-Infinity,0\n3,4,1\n", r"line 2, column 'b': '-Infinity' is not a finite number"),
        ("a,b,y\n1,2,0\n,4,1\n", r"data\.csv, line 3, column 'a': empty cell"),
        ("a,b,y\n1,2,0\n3,1e400,1\n", r"data\.csv, line 3, column 'b': '1e400' is too large for a 64-bit float"),
        ("a,b,y\n1,2,0.5\n3,4,\n5,6,1\n", r"data\.csv, line 3, column 'y': empty target cell"),
        ("a,b,y\n1,2,0.5\n3,4,NaN\n5,6,1\n", r"data\.csv, line 3, column 'y': 'NaN' is not a finite number"),
        ("a,b,y\n1,2,0.5\n3,4,1e999\n5,6,1\n", r"line 3, column 'y': '1e999' is too large"),
        ("a,b,y\n1,2,0.5\n3,4,oops\n5,6,1\n7,8,2\n", r"data\.csv, line 3, column 'y': text 'oops' in a target"),
        ("a,b,y\n1,2,cat\n3,4,cat\n", r"data\.csv, column 'y': every row has the same class 'cat'"),
        ("a,b,y\n1,2,7\n3,4,7\n", r"data\.csv, column 'y': the target is 7 on every row"),
        ("a,a,y\n1,2,0\n3,4,1\n", r"data\.csv, line 1: column name 'a' appears twice"),
        ("values\n1\n2\n3\n", r"data\.csv, line 1: only one column"),
        ("a,b,y\n1,2,0\n3,4\x00,1\n", r"data\.csv, line 3"),
        ('a,b,y\n1,2,0\n"3,4,1\n5,6,0\n', r"data\.csv, line 3: a quoted value runs on to line 4"),
        ("a,b,y\n1,2,0\n\n\n3,x,1\n5,6,0\n", r"data\.csv, line 5, column 'b'"),  # blank lines still count
    ],
)
def test_bad_files_raise_located_errors(tmp_path, content, pattern):
    path = write(tmp_path, content)
    with pytest.raises(DatasetError, match=pattern) as info:
        datasets.load_csv(path)
    assert str(path) in str(info.value)  # names the file itself, not just its folder


def test_text_in_a_feature_column_of_a_headerless_file(tmp_path):
    path = write(tmp_path, "1,2,0\n3,4,1\n5,abc,0\n")
    with pytest.raises(DatasetError, match=r"line 3, column 'col2': text 'abc'"):
        datasets.load_csv(path)


def test_undecodable_bytes_report_line_and_offset(tmp_path):
    # UTF-8 (the é) with a stray byte later: not a Windows-1252 file, so the bad byte is reported
    path = write(tmp_path, b"a,b,y\n1,2,\xc3\xa9\n3,\xff4,1\n")
    with pytest.raises(DatasetError, match=r"data\.csv, line 3: byte 0xff at offset 15 .*not UTF-8"):
        datasets.load_csv(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DatasetError, match=r"nope\.csv: no such file"):
        datasets.load_csv(tmp_path / "nope.csv")
    with pytest.raises(DatasetError, match="is a folder, not a regular file"):
        datasets.load_csv(tmp_path)


def test_unknown_target_lists_the_columns(tmp_path):
    path = write(tmp_path, "x1,x2,label\n1,2,0\n3,4,1\n")
    with pytest.raises(DatasetError, match=r"data\.csv: no column named 'species'; the columns are 'x1', 'x2', 'label'"):
        datasets.load_csv(path, target="species")
    with pytest.raises(DatasetError, match=r"no column number 3 .*'x1', 'x2', 'label'"):
        datasets.load_csv(path, target=3)
    with pytest.raises(DatasetError, match="column name or a 0-based column number"):
        datasets.load_csv(path, target=1.5)


def test_too_many_text_labels_is_refused(tmp_path):
    lines = ["a,name"] + [f"{i},item{i}" for i in range(150)]
    with pytest.raises(DatasetError, match=r"column 'name': more than 100 different text values"):
        datasets.load_csv(write(tmp_path, "\n".join(lines)))


@pytest.mark.parametrize("name", [*datasets.GENERATORS, "iris"])
def test_round_trip_through_csv(tmp_path, name):
    original = datasets.make(name, n_samples=60, noise=0.2, seed=11)
    path = datasets.save_csv(original, tmp_path / f"{name}.csv")
    loaded = datasets.load_csv(path)
    assert loaded.task == original.task
    assert loaded.feature_names == original.feature_names
    assert loaded.class_names == original.class_names
    assert np.array_equal(loaded.X, original.X)
    assert np.array_equal(loaded.y, original.y) and loaded.y.dtype == original.y.dtype


def test_round_trip_digits_keeps_numeric_class_names(tmp_path):
    digits = datasets.make("digits").take(np.arange(0, 1797, 9))
    loaded = datasets.load_csv(datasets.save_csv(digits, tmp_path / "digits.csv"), target="label")
    assert loaded.class_names == digits.class_names
    assert np.array_equal(loaded.X, digits.X) and np.array_equal(loaded.y, digits.y)


def test_saved_file_is_plain_csv(tmp_path):
    path = datasets.save_csv(datasets.make("blobs", n_samples=4, seed=0), tmp_path / "b.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["x1", "x2", "label"] and len(rows) == 5 and {r[2] for r in rows[1:]} <= {"cat", "dog"}


# ------------------------------------------------------------------------------ standardize and split


def test_standardize_gives_zero_mean_unit_std_and_reuses_statistics():
    train = datasets.make("blobs", n_samples=200, seed=0)
    before = train.X.copy()
    scaled, mean, std = datasets.standardize(train)
    assert np.allclose(scaled.X.mean(axis=0), 0.0) and np.allclose(scaled.X.std(axis=0), 1.0)
    assert mean.shape == std.shape == (2,)
    other = datasets.make("blobs", n_samples=50, seed=1)
    again, mean2, std2 = datasets.standardize(other, mean, std)
    assert np.array_equal(mean2, mean) and np.allclose(again.X, (other.X - mean) / std)
    assert np.array_equal(scaled.y, train.y) and scaled.class_names == train.class_names
    assert np.array_equal(train.X, before)  # the input is left unchanged
    assert not np.shares_memory(scaled.X, train.X)


def test_standardize_constant_feature_becomes_zero_not_nan():
    ds = Dataset(np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]]), np.array([0.0, 1.0, 2.0]), "regression", ("a", "b"))
    scaled, _, std = datasets.standardize(ds)
    assert std[1] == 1.0 and np.array_equal(scaled.X[:, 1], np.zeros(3))
    with pytest.raises(DatasetError, match="one per feature"):
        datasets.standardize(ds, mean=np.zeros(3))
    with pytest.raises(DatasetError, match="finite"):
        datasets.standardize(ds, std=np.array([1.0, np.nan]))


def test_split_is_seeded_disjoint_and_complete():
    ds = datasets.make("moons", n_samples=101, seed=0)
    train, val = datasets.train_val_split(ds, 0.2, seed=3)
    assert val is not None and train.n_samples + val.n_samples == 101 and val.n_samples == 20
    rows = {tuple(r) for r in np.vstack([train.X, val.X])}
    assert len(rows) == 101 and rows == {tuple(r) for r in ds.X}
    train2, val2 = datasets.train_val_split(ds, 0.2, seed=3)
    assert np.array_equal(train.X, train2.X) and np.array_equal(val.X, val2.X)
    _, val3 = datasets.train_val_split(ds, 0.2, seed=4)
    assert not np.array_equal(val.X, val3.X)
    assert val.class_names == ds.class_names and val.n_outputs == ds.n_outputs


def test_split_edges():
    ds = datasets.make("line", n_samples=10, seed=0)
    train, val = datasets.train_val_split(ds, 0.0)
    assert train is ds and val is None
    train, val = datasets.train_val_split(ds, 0.01)
    assert val.n_samples == 1 and train.n_samples == 9
    train, val = datasets.train_val_split(ds, 0.99)
    assert train.n_samples == 1 and val.n_samples == 9
    for bad in (-0.1, 1.0, float("nan"), "half"):
        with pytest.raises(DatasetError, match="validation fraction"):
            datasets.train_val_split(ds, bad)


def test_split_keeps_every_class_name_even_if_a_side_misses_a_class():
    ds = datasets.make("spiral", n_samples=26, n_classes=26, seed=0)
    _, val = datasets.train_val_split(ds, 0.1, seed=0)
    assert val.n_samples == 3 and val.n_classes == 26


# ----------------------------------------------------------------------------------- Dataset itself


def test_dataset_normalises_and_validates_its_arrays():
    ds = Dataset([[1, 2], [3, 4]], [1, 0], "classification", ["a", "b"], ["no", "yes"], name="t")
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.int64 and ds.feature_names == ("a", "b")
    assert (ds.n_samples, ds.n_features, ds.n_classes, ds.n_outputs) == (2, 2, 2, 2)
    assert "n_samples=2" in repr(ds) and "2 samples × 2 features, 2 classes" in ds.describe()
    with pytest.raises(DatasetError, match="0..1"):
        Dataset([[1.0], [2.0]], [0, 2], "classification", ["x"], ["a", "b"])
    with pytest.raises(DatasetError, match="shape"):
        Dataset([[1.0], [2.0]], [0.0], "regression", ["x"])
    with pytest.raises(DatasetError, match="NaN"):
        Dataset([[np.nan], [2.0]], [0.0, 1.0], "regression", ["x"])
    with pytest.raises(DatasetError, match="feature names"):
        Dataset([[1.0], [2.0]], [0.0, 1.0], "regression", ["x", "z"])
    with pytest.raises(DatasetError, match="task"):
        Dataset([[1.0], [2.0]], [0.0, 1.0], "ranking", ["x"])


def test_one_hot():
    out = datasets.one_hot(np.array([2, 0, 1]), 3)
    assert out.dtype == np.float64 and out.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    with pytest.raises(DatasetError):
        datasets.one_hot(np.array([3]), 3)


def test_missing_bundled_file_is_a_dataset_error(tmp_path, monkeypatch):
    import gd_studio

    monkeypatch.setattr(gd_studio, "resources_path", lambda *parts: tmp_path.joinpath(*parts))
    datasets._bundled.cache_clear()
    try:
        with pytest.raises(DatasetError, match="bundled dataset file missing: .*iris.csv; reinstall"):
            datasets.make("iris")
    finally:
        datasets._bundled.cache_clear()


def test_valley_features_are_correlated_and_the_linear_loss_is_a_narrow_valley():
    ds = datasets.make("valley", n_samples=4000, noise=0.0, seed=1)
    assert ds.task == "regression" and ds.feature_names == ("x1", "x2")
    assert np.corrcoef(ds.X.T)[0, 1] == pytest.approx(0.95, abs=0.01)
    np.testing.assert_allclose(ds.y, 1.5 * ds.X[:, 0] - ds.X[:, 1])
    Xt = np.hstack([ds.X, np.ones((ds.n_samples, 1))])
    eig = np.linalg.eigvalsh(2.0 / ds.n_samples * Xt.T @ Xt)  # the mse Hessian of a linear model
    assert eig[-1] / eig[0] > 30
