"""The hostile-input corpus: malformed data, curve and scenario files written by the tests themselves.

Small files are plain bytes; the endless and enormous ones (a FIFO, /dev/zero, a sparse multi-GB file) are
made on the fly in the test's folder. Each case carries a regular expression for the "where" its error
must name (a line, a column, a JSON path) besides the file itself.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 1536 << 20  # address space of a subprocess: far below the 7-8 GB /dev/zero once took
TIMEOUT = float(os.environ.get("GD_STUDIO_TEST_HANG_TIMEOUT", "90"))  # a hang guard, not a performance claim


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], Path]  # writes the case into a folder, returns the path to open
    where: str  # regex for the place the message must name (after the file name)
    endless: bool = False  # would hang or eat memory on code that reads without limits

    def __repr__(self) -> str:
        return self.name


def _file(name: str, content: bytes | str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path
    return make


def _fifo(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        os.mkfifo(path)
        return path
    return make


def _link(name: str, target: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.symlink_to(target)
        return path
    return make


def _sparse(name: str, size: int) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        with open(path, "wb") as fh:
            fh.write(b"a,b,y\n")
            fh.truncate(size)  # a hole: no disk used, but st_size says it is huge
        return path
    return make


def _folder(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.mkdir()
        return path
    return make


def _missing(name: str) -> Callable[[Path], Path]:
    return lambda folder: folder / name


LONG_FIELD = 'a,b,y\n1,2,"' + "x" * 140_000 + '\n'
NO_NEWLINE = "1," * (3 << 20)  # 6 MB without a line break

# Hostile to every CSV entry point: load_csv, range-test --data, suggest and a scenario's data_path.
ANY_CSV = [
    Case("fifo", _fifo("pipe.csv"), r"named pipe", endless=True),
    Case("dev_zero", _link("zero.csv", "/dev/zero"), r"is a device", endless=True),
    Case("sparse_3gb", _sparse("huge.csv", 3_000_000_000), r"MB is more than the .* GD_STUDIO_MAX_FILE_MB",
         endless=True),
    Case("folder", _folder("folder.csv"), r"is a folder"),
    Case("missing", _missing("missing.csv"), r"no such file"),
    Case("empty", _file("empty.csv", ""), r"the file is empty"),
    Case("nul_bytes", _file("binary.csv", b"a,b,y\n1,2,0\n\x00\x01\x02\x03\xff\xfe" * 50), r"line 3: a NUL byte"),
    Case("long_field", _file("longfield.csv", LONG_FIELD), r"line 2: a value longer than 131,072 characters"),
    Case("no_newline", _file("oneline.csv", NO_NEWLINE), r"line 1: longer than 4,194,304 bytes"),
    Case("not_text", _file("undefined.csv", b"a,b,y\n1,2,\x81\x8d\n"), r"line 2: byte 0x81 .*neither UTF-8"),
    Case("bad_utf8_after_utf8", _file("mixedenc.csv", "a,b,y\n1,2,é\n".encode() + b"3,4,\xff\n"),
         r"line 3: byte 0xff at offset \d+ .*not UTF-8"),
]

# Hostile datasets (load_csv, range-test --data, a scenario's data_path).
DATASETS = ANY_CSV + [
    Case("header_only", _file("header.csv", "a,b,y\n"), r"has a header \(line 1\) but no data rows"),
    Case("mixed_separators", _file("mixed.csv", "x1,x2;label\n0.1,0.2;0\n0.3,0.4;1\n0.5,0.6;0\n"),
         r"line 1: mixes separators: comma \(,\) and semicolon \(;\)"),
    Case("text_feature", _file("text.csv", "a,b,y\n1,2,0\n3,four,1\n5,6,0\n"), r"line 3, column 'b': text 'four'"),
    Case("huge_feature", _file("bigx.csv", "a,b,y\n1,2,0\n3,1e308,1\n5,6,0\n"),
         r"line 3, column 'b': '1e308' is too large \(values must lie within"),
    Case("huge_target", _file("bigy.csv", "a,b,y\n1,2,0.5\n3,4,-1e308\n5,6,1.5\n"),
         r"line 3, column 'y': '-1e308' is too large \(values must lie within"),
    Case("nan_feature", _file("nan.csv", "a,b,y\n1,2,0\nnan,4,1\n5,6,0\n"), r"line 3, column 'a': 'nan' is not a finite"),
    Case("ragged", _file("ragged.csv", "a,b,y\n1,2,0\n3,4\n5,6,0\n"), r"line 3: 2 values where 3 are expected"),
    Case("open_quote", _file("quote.csv", 'a,b,y\n1,2,0\n"3,4,1\n5,6,0\n'), r"line 3: a quoted value runs on"),
    Case("one_column", _file("passwd.csv", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/sbin/nologin\n"),
         r"line 1: only one column"),
    Case("same_class", _file("same.csv", "a,b,y\n1,2,cat\n3,4,cat\n"), r"column 'y': every row has the same class"),
    Case("duplicate_names", _file("dup.csv", "a,a,y\n1,2,0\n3,4,1\n"), r"line 1: column name 'a' appears twice"),
    Case("stray_word_target", _file("stray.csv", "a,b,y\n1,2,0.5\n3,4,oops\n5,6,1\n7,8,2\n"),
         r"line 3, column 'y': text 'oops' in a target"),
]

# Hostile recorded curves (suggest).
CURVES = ANY_CSV + [
    Case("bad_header", _file("noheader.csv", "x,y\n" + "".join(f"{10 ** (i / 10 - 5)},{1 - i / 50}\n" for i in range(30))),
         r"line 1: needs columns named lr and loss"),
    Case("decreasing_lr", _file("down.csv", "lr,loss\n0.001,1\n0.01,0.9\n0.005,0.8\n0.1,0.7\n1,0.6\n2,0.9\n"),
         r"line 4: lr 0.005 is below the previous row's 0.01 \(line 3\)"),
    Case("duplicate_lr", _file("same_lr.csv", "lr,loss\n0.001,1\n0.01,0.9\n0.01,0.8\n0.1,0.7\n1,0.6\n2,0.9\n"),
         r"line 4: lr 0.01 repeats the previous row's"),
    Case("all_nan", _file("nan_curve.csv", "lr,loss\n" + "".join(f"{10 ** (i / 10 - 5)},nan\n" for i in range(30))),
         r"no usable loss values"),
    Case("nan_early", _file("nan_early.csv", "lr,loss\n0.001,1\n0.01,0.9\nnan_lr,0.8\n"),
         r"line 4, column 'lr': text 'nan_lr'"),
    Case("negative_lr", _file("neg.csv", "lr,loss\n-0.1,1\n0.01,0.9\n0.1,0.8\n0.2,0.7\n0.3,0.6\n"),
         r"line 2: lr must be a finite number above 0"),
    Case("text_loss", _file("textloss.csv", "lr,loss\n0.001,1\n0.01,high\n0.1,0.8\n0.2,0.7\n0.3,0.6\n"),
         r"line 3, column 'loss': text 'high'"),
    Case("huge_losses", _file("huge_loss.csv", "lr,loss\n" + "".join(f"{10 ** (i / 10 - 5)},{1.7e308 - i * 1e306!r}\n"
                                                                      for i in range(30))),
         r"no usable loss values"),
    Case("diverged_early", _file("short.csv", "lr,loss\n0.001,1\n0.01,0.9\n0.1,inf\n0.2,nan\n0.3,nan\n0.4,nan\n"),
         r"line 4: the loss diverges \(NaN, infinite or beyond ±1e\+100\) from here on, leaving 2 usable points"),
]


def _scenario_text(**config_changes) -> str:
    config = {
        "dataset": "moons", "dataset_params": {"n_samples": 60, "noise": 0.2, "seed": 0}, "data_path": None,
        "target": None, "model": "logistic", "hidden": [16], "activation": "tanh", "loss": "cross_entropy",
        "optimizer": "sgd", "optimizer_params": {}, "lr": 0.5, "schedule": "constant", "schedule_params": {},
        "batch_size": 16, "seed": 0, "watch": "", "standardize": True, "val_fraction": 0.2, "val_every": 10,
    }
    config.update(config_changes)
    return json.dumps({"version": 1, "title": "hostile", "config": config}, indent=2)


def scenario_text(**config_changes) -> str:
    return _scenario_text(**config_changes)


def _with_data(name: str, data: Callable[[Path], Path], relative: bool = True, **config) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        data_path = data(folder)
        shown = data_path.name if relative and data_path.parent == folder else str(data_path)
        path = folder / name
        path.write_text(_scenario_text(data_path=shown, dataset_params={}, **config), encoding="utf-8")
        return path
    return make


def _outside(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        inner = folder / "scenes"
        inner.mkdir()
        (folder / "secret.csv").write_text("a,b,y\n1,2,0\n3,4,1\n")
        path = inner / name
        path.write_text(_scenario_text(data_path="../secret.csv", dataset_params={}), encoding="utf-8")
        return path
    return make


def _linked_outside(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / "passwd.csv").symlink_to("/etc/passwd")
        path = folder / name
        path.write_text(_scenario_text(data_path="passwd.csv", dataset_params={}), encoding="utf-8")
        return path
    return make


def _big_int(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        text = _scenario_text().replace('"seed": 0,\n    "watch"', '"seed": ' + "9" * 5000 + ',\n    "watch"')
        assert "9" * 5000 in text
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path
    return make


def _range_test(name: str, **rt) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        data = json.loads(_scenario_text())
        data["range_test"] = {"start_lr": 1e-5, "end_lr": 1.0, "num_iter": 50, **rt}
        path = folder / name
        path.write_text(json.dumps(data), encoding="utf-8")
        return path
    return make


SCENARIO_ONLY = [
    Case("scenario_fifo", _fifo("pipe.gdscenario"), r"named pipe", endless=True),
    Case("scenario_dev_zero", _link("zero.gdscenario", "/dev/zero"), r"is a device", endless=True),
    Case("scenario_sparse", _sparse("huge.gdscenario", 3_000_000_000), r"too large for a scenario file", endless=True),
    Case("scenario_folder", _folder("dir.gdscenario"), r"is a folder"),
    Case("scenario_not_json", _file("x.gdscenario", "version: 1\n"), r"not valid JSON at line 1, column 1"),
    Case("scenario_truncated", _file("t.gdscenario", _scenario_text()[:200]), r"ends early"),
    Case("scenario_big_int", _big_int("bigint.gdscenario"), r"whole number of 5,000 digits at line \d+, column \d+"),
    Case("scenario_end_lr_1e308", _range_test("rt.gdscenario", end_lr=1e308), r"range_test\.end_lr: .*1e\+308"),
    Case("scenario_bad_samples", _file("n.gdscenario", _scenario_text(dataset_params={"n_samples": -5})),
         r"config\.dataset_params: number of samples"),
    Case("scenario_loss_for_task", _file("loss.gdscenario", _scenario_text(dataset="line", loss="cross_entropy",
                                                                           dataset_params={})),
         r"config\.loss: cross entropy needs classes"),
    Case("scenario_data_missing", _with_data("missing.gdscenario", _missing("gone.csv")),
         r"config\.data_path: .*gone\.csv: no such file"),
    Case("scenario_data_fifo", _with_data("pipe_data.gdscenario", _fifo("pipe.csv")),
         r"config\.data_path: .*pipe\.csv: is a named pipe", endless=True),
    Case("scenario_data_folder", _with_data("dir_data.gdscenario", _folder("d.csv")), r"config\.data_path: .*is a folder"),
    Case("scenario_data_mixed", _with_data("mixed.gdscenario", _file("m.csv", "x1,x2;label\n0.1,0.2;0\n0.3,0.4;1\n")),
         r"config\.data_path: .*m\.csv, line 1: mixes separators"),
    Case("scenario_data_target", _with_data("target.gdscenario", _file("t.csv", "a,b,y\n1,2,0\n3,4,1\n"), target="label"),
         r"config\.data_path: .*t\.csv: no column named 'label'"),
    Case("scenario_data_outside", _outside("outside.gdscenario"), r"config\.data_path: reads .*secret\.csv, outside"),
    Case("scenario_data_dev_zero", _with_data("zero_data.gdscenario", lambda f: Path("/dev/zero"), relative=False),
         r"config\.data_path: reads /dev/zero, outside", endless=True),
    Case("scenario_data_linked_out", _linked_outside("linked.gdscenario"), r"config\.data_path: reads .*passwd\.csv, outside"),
]


def limited_run(argv: list[str], cwd: Path, *, env: dict | None = None,
                memory: int = MEMORY_LIMIT) -> subprocess.CompletedProcess:
    """Run ``python -m gd_studio argv`` with an address-space cap and a hang guard."""
    import resource  # POSIX only, like FIFOs and device files

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen",
                   "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "gd_studio", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT, preexec_fn=cap, env=environment)
