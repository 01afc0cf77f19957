"""Files a user expects to load do load, and every guess the reader makes is said, with how to override it."""
from __future__ import annotations

import numpy as np
import pytest

from gd_studio.cli import main
from gd_studio.engine import datasets
from gd_studio.engine.datasets import DatasetError


def write(tmp_path, content, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_excel_windows_csv_in_cp1252_is_read_with_a_note(tmp_path):
    path = write(tmp_path, "taille;poids;espèce\n1,5;2;chêne\n2,5;3;hêtre\n0,5;1;chêne\n".encode("cp1252"))
    ds = datasets.load_csv(path)
    assert ds.feature_names == ("taille", "poids") and ds.class_names == ("chêne", "hêtre")
    assert ds.X.tolist() == [[1.5, 2.0], [2.5, 3.0], [0.5, 1.0]]
    assert any("Windows-1252" in note and str(path) in note for note in ds.notes)


def test_cp1252_after_a_long_ascii_start_is_still_recognised(tmp_path):
    rows = "".join(f"{i},{i % 7},a\n" for i in range(20_000))  # > 64 KiB of ASCII before the first accent
    path = write(tmp_path, ("x,y,label\n" + rows + "5,6,é\n").encode("cp1252"))
    ds = datasets.load_csv(path)
    assert ds.class_names == ("a", "é") and any("from line 20002" in n for n in ds.notes)


def test_trailing_comma_on_every_line(tmp_path):
    ds = datasets.load_csv(write(tmp_path, "a,b,y,\n1,2,0,\n3,4,1,\n5,6,0,\n"))
    assert ds.feature_names == ("a", "b") and ds.y.tolist() == [0, 1, 0]


def test_leading_comment_lines_are_skipped_and_lines_still_count(tmp_path):
    path = write(tmp_path, "# exported by a logger\n# units: cm\na,b,y\n1,2,0\n3,x,1\n")
    with pytest.raises(DatasetError, match=r"line 5, column 'b'"):
        datasets.load_csv(path)
    ds = datasets.load_csv(write(tmp_path, "# note\na,b,y\n1,2,0\n3,4,1\n", "ok.csv"))
    assert ds.feature_names == ("a", "b") and ds.n_samples == 2


def test_numeric_column_index_header_is_a_header_with_a_note(tmp_path):
    path = write(tmp_path, "0,1,2\n0.5,1.5,0\n2.5,3.5,1\n4.5,5.5,0\n")
    ds = datasets.load_csv(path)
    assert ds.feature_names == ("0", "1") and ds.n_samples == 3
    assert any("line 1: read as column names" in n and "--header no" in n for n in ds.notes)
    as_data = datasets.load_csv(path, header=False)
    assert as_data.n_samples == 4 and as_data.feature_names == ("col1", "col2")
    assert not any("column names" in n for n in as_data.notes)


def test_many_distinct_integer_labels_say_regression_and_how_to_override(tmp_path):
    rows = "".join(f"{i * 0.01},{i}\n" for i in range(1000))
    path = write(tmp_path, "x,label\n" + rows)
    ds = datasets.load_csv(path)
    assert ds.task == "regression"
    assert any("1,000 different whole numbers" in n and "--task classification" in n for n in ds.notes)
    with pytest.raises(DatasetError, match=r"column 'label': 1000 different values; at most 100 classes"):
        datasets.load_csv(path, task="classification")
    few = write(tmp_path, "x,label\n" + "".join(f"{i},{i % 5}\n" for i in range(40)), "few.csv")
    labels = datasets.load_csv(few)
    assert labels.task == "classification" and any("--task regression" in n for n in labels.notes)
    assert datasets.load_csv(few, task="regression").task == "regression"


def test_cli_prints_the_notes_and_takes_the_overrides(tmp_path, capsys):
    path = write(tmp_path, "x,label\n" + "".join(f"{i * 0.01},{i}\n" for i in range(300)))
    assert main(["train", "--data", str(path), "--steps", "3", "--model", "linear"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "\nnote: " in captured.out and "--task classification" in captured.out
    few = write(tmp_path, "x,label\n" + "".join(f"{i},{i % 5}\n" for i in range(40)), "few.csv")
    assert main(["train", "--data", str(few), "--steps", "3", "--model", "linear", "--task", "regression"]) == 0
    assert "regression" in capsys.readouterr().out


def test_one_reader_for_curves_semicolons_decimal_commas_and_utf16(tmp_path, capsys):
    lrs = np.geomspace(1e-4, 1.0, 40)
    losses = 1.0 - 0.8 / (1 + np.exp(-(np.log10(lrs) + 2) * 3)) + np.where(lrs > 0.3, 5 * (lrs - 0.3), 0)
    lrs, losses = lrs.tolist(), losses.tolist()
    comma = "lr,loss\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(lrs, losses))
    semi = "# from a spreadsheet\nLR;Loss\n" + "".join(f"{a!r};{str(b).replace('.', ',')}\n" for a, b in zip(lrs, losses))
    outputs = []
    for name, content in [("c.csv", comma.encode()), ("s.csv", semi.encode("cp1252")),
                          ("u.csv", comma.replace(",", "\t").encode("utf-16"))]:
        assert main(["suggest", str(write(tmp_path, content, name))]) == 0
        captured = capsys.readouterr()
        outputs.append(captured.out.split("\n", 1)[1])
    assert outputs[0] == outputs[1] == outputs[2]


def test_suggest_accepts_a_diverged_tail(tmp_path, capsys):
    lrs = np.geomspace(1e-4, 1.0, 40).tolist()
    losses = [f"{1.0 - i / 50!r}" for i in range(35)] + ["inf", "nan", "nan", "nan", "nan"]
    path = write(tmp_path, "lr,loss\n" + "".join(f"{a!r},{b}\n" for a, b in zip(lrs, losses)))
    assert main(["suggest", str(path)]) == 0
    assert capsys.readouterr().err == ""
