"""``gd-studio --self-test``: open the window offscreen, run a short range test, load every bundled scenario."""
from __future__ import annotations

import math
import os
import sys
import threading
import time

_T_IMPORT = time.perf_counter()

# Exit codes: distinct so CI logs say at a glance what kind of failure it was.
OK, CHECK_FAILED, CRASHED, TIMED_OUT = 0, 1, 2, 3
# Generous: a cold first start of a frozen build on a slow CI runner can take a while.
DEFAULT_TIMEOUT = 90.0


class SelfTestFailure(Exception):
    """A check failed; the message is the one-line reason."""


class _Watchdog:
    """Ends the process with one line if a stage hangs (e.g. a modal dialog blocks the event loop)."""

    def __init__(self, timeout: float):
        self.stage = "starting"
        self._timer = threading.Timer(timeout, self._fire, args=(timeout,))
        self._timer.daemon = True

    def _fire(self, timeout: float) -> None:
        _emit(f"self-test FAILED: timed out after {timeout:.0f} s while {self.stage}", error=True)
        os._exit(TIMED_OUT)

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()


def _emit(line: str, *, error: bool = False) -> None:
    # A windowed Windows build has no console: sys.stdout may be None there.
    stream = sys.stderr if error else sys.stdout
    if stream is None:
        stream = sys.__stdout__ or sys.__stderr__
    if stream is None:
        return
    try:
        print(line, file=stream, flush=True)
    except (OSError, ValueError):
        pass


def _process_age() -> float | None:
    """Seconds since this process started (Linux /proc), so frozen start-up cost is included."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat(5); two fields precede the rsplit point
        with open("/proc/uptime", "rb") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _fmt_lr(value: float) -> str:
    from .engine import fmt as _fmt

    return _fmt.fmt_lr(value)


# ---------------------------------------------------------------- checks


def check_resources() -> str:
    """The resource resolver finds the bundled folders (catches data files left out of a build)."""
    from gd_studio import resources_path

    try:
        root = resources_path()
    except FileNotFoundError as exc:
        raise SelfTestFailure(str(exc)) from None
    missing = [name for name in ("datasets", "icons", "scenarios") if not (root / name).is_dir()]
    if missing:
        raise SelfTestFailure(f"resources in {root} lack {', '.join(missing)}")
    return str(root)


# Harmless offscreen-platform chatter that would break the promise of one summary line.
_QUIET_QT_MESSAGES = ("does not support propagateSizeHints", "QFont::", "Populating font family aliases")


def _filter_qt_messages(verbose: bool) -> None:
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind, _context, text):
        if not verbose and kind in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg, QtMsgType.QtWarningMsg) \
                and any(q in text for q in _QUIET_QT_MESSAGES):
            return
        _emit(f"qt: {text}", error=True)

    _filter_qt_messages.handler = handler  # keep it alive: Qt holds only a borrowed reference
    qInstallMessageHandler(handler)


def make_app(argv: list[str] | None = None):
    """The QApplication the app itself would create (offscreen), or a plain one if setup is not there."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    argv = list(argv) if argv is not None else [sys.argv[0] if sys.argv else "gd-studio"]
    try:
        from gd_studio.ui import app as ui_app
    except ImportError:
        ui_app = None
    for name in ("create_app", "make_app", "create_application", "setup_app"):
        factory = getattr(ui_app, name, None)
        if callable(factory):
            return factory(argv)
    return QApplication(argv)


def open_window():
    """Construct and show MainWindow; returns it with the seconds it took."""
    try:
        from gd_studio.ui import MainWindow
    except ImportError as exc:
        raise SelfTestFailure(f"cannot import gd_studio.ui.MainWindow: {exc}") from None
    from PySide6.QtWidgets import QApplication

    t0 = time.perf_counter()
    window = MainWindow()
    window.show()
    QApplication.processEvents()
    if not window.isVisible():
        raise SelfTestFailure("MainWindow did not become visible")
    return window, time.perf_counter() - t0


def _find_action(window, name: str):
    from PySide6.QtGui import QAction

    return window.findChild(QAction, name)


def range_test_via_window(window, timeout: float):
    """Trigger actionRangeTest and wait for MainWindow.rangeTestFinished; returns the engine result."""
    from PySide6.QtCore import QEventLoop, QTimer

    action = _find_action(window, "actionRangeTest")
    signal = getattr(window, "rangeTestFinished", None)
    if action is None or signal is None:
        return None
    got, errors = [], []
    loop = QEventLoop()

    def finished(result=None):
        got.append(result)
        loop.quit()

    def message(kind: str, text: str):
        # The window reports a failed range test as an error message instead of finishing.
        if kind == "error":
            errors.append(text)
            loop.quit()

    connections = [(signal, finished)]
    shown = getattr(window, "messageShown", None)
    if shown is not None:
        connections.append((shown, message))
    for sig, slot in connections:
        sig.connect(slot)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(int(timeout * 1000))
    try:
        if not action.isEnabled():
            raise SelfTestFailure("actionRangeTest is disabled in a fresh window")
        action.trigger()
        if not got and not errors:  # a synchronous emit would already have arrived
            loop.exec()
    finally:
        timer.stop()
        for sig, slot in connections:
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
    if errors and not got:
        raise SelfTestFailure(f"the window reported: {errors[0]}")
    if not got:
        status = window.statusBar().currentMessage() if hasattr(window, "statusBar") else ""
        hint = f" (status bar: {status!r})" if status else ""
        raise SelfTestFailure(f"range test did not finish within {timeout:.0f} s{hint}")
    if got[0] is None:
        raise SelfTestFailure("rangeTestFinished carried no result")
    return got[0]


def range_test_via_engine():
    """The same check without the window: a short range test straight through the engine."""
    from gd_studio.engine import datasets, lr_finder, models

    ds = datasets.make("moons", n_samples=200, noise=0.2, seed=0)
    model = models.make("mlp", ds.n_features, ds.n_outputs, hidden=(16,), activation="tanh",
                        loss="cross_entropy")
    return lr_finder.range_test(model, ds, model.init_params(0), start_lr=1e-7, end_lr=10.0,
                                num_iter=100, seed=0)


def check_suggestion(result) -> tuple[float, float, float]:
    """The steepest suggestion exists, is finite and lies inside the tested range."""
    if not hasattr(result, "suggestions") and getattr(result, "results", None):
        result = result.results[0]  # a repeat over seeds: check the first seed's run
    suggestions = getattr(result, "suggestions", None)
    if not isinstance(suggestions, dict):
        raise SelfTestFailure(f"range-test result has no suggestions ({type(result).__name__})")
    steepest = suggestions.get("steepest")
    start, end = float(result.start_lr), float(result.end_lr)
    if steepest is None:
        reason = getattr(result, "stop_reason", "")
        raise SelfTestFailure(f"range test gave no steepest suggestion (stopped: {reason or 'unknown'})")
    steepest = float(steepest)
    if not math.isfinite(steepest):
        raise SelfTestFailure(f"steepest suggestion is not finite: {steepest}")
    lo, hi = min(start, end), max(start, end)
    if not lo <= steepest <= hi:
        raise SelfTestFailure(f"steepest suggestion {_fmt_lr(steepest)} outside [{_fmt_lr(lo)}, {_fmt_lr(hi)}]")
    return steepest, lo, hi


def check_licences() -> int:
    """The licence texts Help → About shows are there (every build must carry them); returns how many."""
    from gd_studio import licenses

    for name in licenses.PROJECT_FILES:
        try:
            licenses.project_text(name)
        except (OSError, ValueError) as exc:
            raise SelfTestFailure(f"{name} is missing: {exc}") from None
    texts = licenses.bundled_texts()
    components = {t.component for t in texts}
    needed = {"Qt and PySide6", "NumPy", "pyqtgraph"} | ({"Python"} if getattr(sys, "frozen", False) else set())
    if not needed <= components:
        raise SelfTestFailure(f"licence texts missing for {', '.join(sorted(needed - components))}")
    return len(texts) + len(licenses.PROJECT_FILES)


def check_scenarios() -> int:
    """Every bundled scenario loads; returns how many there are."""
    try:
        from gd_studio.engine import scenarios
    except ImportError as exc:
        raise SelfTestFailure(f"cannot import gd_studio.engine.scenarios: {exc}") from None
    items = list(scenarios.bundled())
    if not items:
        raise SelfTestFailure("no bundled scenarios found")
    for item in items:
        try:
            scenarios.load(item)
        except Exception as exc:  # report which one, on one line
            name = getattr(item, "name", item)
            raise SelfTestFailure(f"bundled scenario {name} does not load: {exc}") from None
    return len(items)


def _close(window) -> None:
    from PySide6.QtWidgets import QApplication

    window.close()
    QApplication.processEvents()
    window.deleteLater()
    QApplication.processEvents()


# ---------------------------------------------------------------- entry point


def run(*, verbose: bool = False, timeout: float = DEFAULT_TIMEOUT) -> int:
    """Run the self-test; print one summary line; return 0 when everything passed."""
    t0 = time.perf_counter()
    # Forced, not defaulted: the self-test must never need (or grab) a real display. An offscreen platform chosen
    # already (with its own screen: the test suite's 1920×1080) is kept: run in a process whose app was not made
    # yet, the plain plugin's 800×800 screen became every later window's
    if not os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"

    def note(text: str) -> None:
        if verbose:
            _emit(f"self-test: {text}", error=True)

    with _Watchdog(timeout + 30.0) as dog:
        try:
            import gd_studio

            version = gd_studio.__version__
            dog.stage = "checking resources"
            note(f"gd-studio {version}, python {sys.version.split()[0]}, frozen={getattr(sys, 'frozen', False)}")
            note(f"resources at {check_resources()}")

            dog.stage = "creating the QApplication"
            _filter_qt_messages(verbose)
            app = make_app()
            note(f"Qt platform {app.platformName()}")
            dog.stage = "opening the window"
            window, window_seconds = open_window()
            age = _process_age()
            note(f"window shown in {window_seconds:.2f} s"
                 + (f" ({age:.2f} s after process start)" if age is not None else ""))
            try:
                dog.stage = "running the range test in the window"
                result = range_test_via_window(window, timeout)
                path = "window"
                if result is None:
                    note("window has no actionRangeTest/rangeTestFinished; using the engine")
                    dog.stage = "running the range test in the engine"
                    result = range_test_via_engine()
                    path = "engine"
            finally:
                dog.stage = "closing the window"
                _close(window)
            steepest, lo, hi = check_suggestion(result)
            note(f"steepest {_fmt_lr(steepest)} in [{_fmt_lr(lo)}, {_fmt_lr(hi)}] via the {path}")

            dog.stage = "loading the bundled scenarios"
            n_scenarios = check_scenarios()
            dog.stage = "reading the licence texts"
            n_licences = check_licences()
        except SelfTestFailure as exc:
            _emit(f"self-test FAILED: {exc}", error=True)
            return CHECK_FAILED
        except Exception as exc:  # anything else still ends with one line, not a traceback
            if verbose:
                import traceback

                traceback.print_exc()
            _emit(f"self-test FAILED: {type(exc).__name__} while {dog.stage}: {exc}", error=True)
            return CRASHED

    first_window = f"{age:.2f} s after start" if age is not None else f"{window_seconds:.2f} s"
    _emit(
        f"self-test ok: gd-studio {version}, window {first_window}, "
        f"steepest lr {_fmt_lr(steepest)} in [{_fmt_lr(lo)}, {_fmt_lr(hi)}] ({path}), "
        f"{n_scenarios} scenarios, {n_licences} licence texts, {time.perf_counter() - t0:.2f} s"
    )
    return OK


if __name__ == "__main__":
    sys.exit(run(verbose="-v" in sys.argv[1:]))
