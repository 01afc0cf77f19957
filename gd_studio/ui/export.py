"""Export of views (PNG, SVG, clipboard) and of runs and range tests (CSV), written atomically."""
from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers pg.exporters)
from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsScene, QWidget

from gd_studio.engine import fileio
from gd_studio.engine.errors import GDStudioError

__all__ = [
    "ExportError",
    "RUN_HISTORY_COLUMNS",
    "RANGE_TEST_COLUMNS",
    "render_image",
    "export_png",
    "export_svg",
    "copy_image_to_clipboard",
    "write_csv",
    "run_history_columns",
    "range_test_columns",
    "write_run_csv",
    "write_range_test_csv",
]

RUN_HISTORY_COLUMNS: tuple[str, ...] = (
    "step",
    "epoch",
    "lr",
    "loss",
    "val_loss",
    "grad_norm",
    "watched_value",
    "watched_grad",
    "update_norm",
)
RANGE_TEST_COLUMNS: tuple[str, ...] = ("lr", "loss", "smoothed", "val_loss")

_INCH = 0.0254
_SCREEN_DPI = 96.0


class ExportError(GDStudioError):
    """A file could not be exported (missing folder, no permission, bad data); says which file."""


# ------------------------------------------------------------------------------------------ files


def _atomic_write(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, so a failed or interrupted
    export never leaves a truncated file where a good one was; symlinks are written through, devices and
    FIFOs refused (engine.fileio does the work, shared with scenarios and the command line)."""
    return fileio.atomic_write(path, data, error=ExportError)


# ----------------------------------------------------------------------------------------- images


def _export_item(target: Any) -> QGraphicsItem | QGraphicsScene:
    """The graphics item (or scene) pyqtgraph's exporters should render for ``target``."""
    if isinstance(target, pg.PlotWidget):
        return target.getPlotItem()
    if isinstance(target, pg.GraphicsView):
        central = getattr(target, "centralWidget", None)
        return central if central is not None else target.scene()
    if isinstance(target, (QGraphicsItem, QGraphicsScene)):
        scene = target if isinstance(target, QGraphicsScene) else target.scene()
        if scene is None or not scene.views():
            raise TypeError("the item to export must be shown in a pyqtgraph view")
        return target
    raise TypeError(f"cannot export {type(target).__name__}: expected a pyqtgraph plot, view or item")


def render_image(target: Any, scale: float = 2.0) -> QImage:
    """Render a pyqtgraph PlotWidget, GraphicsView, PlotItem or scene to an image ``scale`` × its size
    on screen, with the DPI metadata set so it prints at that size."""
    scale = float(scale)
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    exporter = pg.exporters.ImageExporter(_export_item(target))
    rect = exporter.getTargetRect()
    width = max(1, round(rect.width() * scale))
    height = max(1, round(rect.height() * scale))
    params = exporter.parameters()
    # Set both sides ourselves: the exporter's aspect-ratio coupling truncates the other side.
    params.param("width").setValue(width, blockSignal=exporter.widthChanged)
    params.param("height").setValue(height, blockSignal=exporter.heightChanged)
    params["antialias"] = True
    image = exporter.export(toBytes=True)
    dpm = round(_SCREEN_DPI * scale / _INCH)
    image.setDotsPerMeterX(dpm)
    image.setDotsPerMeterY(dpm)
    return image


def _image_bytes(image: QImage, fmt: str, path: Path) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buffer, fmt)
    buffer.close()
    if not ok:
        raise ExportError(f"cannot write {path}: the image could not be encoded as {fmt}")
    return bytes(buffer.data())


def export_png(plot_widget_or_item: Any, path: str | os.PathLike[str], scale: float = 2.0) -> Path:
    """Save a plot as PNG at ``scale`` × its on-screen size (2.0: sharp on slides and high-DPI screens)."""
    target = Path(path)
    image = render_image(plot_widget_or_item, scale)
    return _atomic_write(target, _image_bytes(image, "PNG", target))


def _explicit_close(d: str) -> str:
    """Path data with each close-path command ("Z") replaced by a line back to the subpath's start."""
    out: list[str] = []
    start = ""
    for token in d.split():
        if token[-1] in "Zz" and len(token) > 1:
            out.append(token[:-1])
            token = token[-1]
        if token in ("Z", "z"):
            if start:
                out.append("L" + start)
            continue
        if token[0] in "Mm":
            start = token[1:]
        out.append(token)
    return " ".join(out)


@contextlib.contextmanager
def _svg_closed_path_compat() -> Iterator[None]:
    """pyqtgraph 0.14's SVG exporter cannot parse the "Z" that recent Qt versions write for closed paths
    (the plot's clip rectangle always is one; pyqtgraph issue #3495). While we export, its coordinate
    fix-up sees the same paths with explicit closing lines instead."""
    module = sys.modules.get("pyqtgraph.exporters.SVGExporter")
    original = getattr(module, "correctCoordinates", None)
    if module is None or original is None:
        yield
        return

    def correct_coordinates(node: Any, *args: Any, **kwargs: Any) -> Any:
        for element in node.getElementsByTagName("path"):
            d = element.getAttribute("d")
            if "Z" in d or "z" in d:
                element.setAttribute("d", _explicit_close(d))
        return original(node, *args, **kwargs)

    module.correctCoordinates = correct_coordinates
    try:
        yield
    finally:
        module.correctCoordinates = original


def export_svg(plot: Any, path: str | os.PathLike[str]) -> Path:
    """Save a plot as SVG (vector: any size on slides and in papers)."""
    target = Path(path)
    exporter = pg.exporters.SVGExporter(_export_item(plot))
    with _svg_closed_path_compat():
        data = exporter.export(toBytes=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _atomic_write(target, bytes(data))


def copy_image_to_clipboard(widget: Any, scale: float | None = None) -> QImage:
    """Put a picture of ``widget`` on the clipboard and return it.

    A QWidget is grabbed as shown, at the screen's device pixel ratio. With ``scale`` (or for a
    pyqtgraph item, which has no widget to grab) the plot is rendered at ``scale`` × its size instead.
    """
    if scale is None and isinstance(widget, QWidget):
        pixmap: QPixmap = widget.grab()
        image = pixmap.toImage()
    else:
        image = render_image(widget, 2.0 if scale is None else scale)
    QApplication.clipboard().setImage(image)
    return image


# -------------------------------------------------------------------------------------------- CSV


def _cell(value: Any) -> str:
    """Text of one CSV cell; floats in shortest round-trip form, so ``float(cell)`` gives the value back."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # 'nan', 'inf', '-inf' also parse back with float()
    return str(value)


def write_csv(path: str | os.PathLike[str], columns: Mapping[str, Sequence[Any]]) -> Path:
    """Write ``columns`` (name → values, all the same length) as a CSV file with a header row.

    Floats are written exactly (``repr``), None as an empty cell. The file is replaced atomically.
    """
    target = Path(path)
    if not columns:
        raise ExportError(f"cannot write {target}: there are no columns to write")
    names = [str(n) for n in columns]
    values: list[list[Any]] = []
    for name, col in columns.items():
        arr = col if not isinstance(col, np.ndarray) else col.tolist()
        if isinstance(col, np.ndarray) and col.ndim != 1:
            raise ExportError(f"cannot write {target}: column '{name}' is not one-dimensional")
        if isinstance(arr, (str, bytes)) or not isinstance(arr, Iterable):
            raise ExportError(f"cannot write {target}: column '{name}' is not a sequence of values")
        values.append(list(arr))
    lengths = {len(v) for v in values}
    if len(lengths) > 1:
        detail = ", ".join(f"'{n}' has {len(v)}" for n, v in zip(names, values))
        raise ExportError(f"cannot write {target}: the columns differ in length ({detail})")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in zip(*values):
        writer.writerow([_cell(v) for v in row])
    return _atomic_write(target, out.getvalue().encode("utf-8"))


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def run_history_columns(records: Iterable[Any]) -> dict[str, list[Any]]:
    """Columns step, epoch, lr, loss, val_loss, grad_norm, watched_value, watched_grad, update_norm from
    step records (``gd_studio.engine.descent.StepRecord`` or anything with those attributes)."""
    cols: dict[str, list[Any]] = {name: [] for name in RUN_HISTORY_COLUMNS}
    for i, rec in enumerate(records):
        try:
            cols["step"].append(int(rec.step))
            cols["epoch"].append(int(rec.epoch))
            for name in RUN_HISTORY_COLUMNS[2:]:
                cols[name].append(_float_or_none(getattr(rec, name)))
        except (AttributeError, TypeError, ValueError) as exc:
            raise ExportError(f"step record {i} cannot be exported: {exc}") from exc
    return cols


def range_test_columns(result: Any) -> dict[str, list[Any]]:
    """Columns lr, loss, smoothed (and val_loss when the test had validation data) from a
    ``gd_studio.engine.lr_finder.RangeTestResult`` (or anything with lrs, losses, smoothed, val_losses)."""
    cols: dict[str, list[Any]] = {
        "lr": [float(v) for v in result.lrs],
        "loss": [float(v) for v in result.losses],
        "smoothed": [float(v) for v in result.smoothed],
    }
    val = getattr(result, "val_losses", None)
    if val is not None:
        cols["val_loss"] = [_float_or_none(v) for v in val]
    return cols


def write_run_csv(path: str | os.PathLike[str], records: Iterable[Any]) -> Path:
    """CSV of a run's step records (columns of :func:`run_history_columns`)."""
    return write_csv(path, run_history_columns(records))


def write_range_test_csv(path: str | os.PathLike[str], result: Any) -> Path:
    """CSV of a range test (columns of :func:`range_test_columns`)."""
    return write_csv(path, range_test_columns(result))
