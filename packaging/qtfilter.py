"""What the frozen build leaves out (Python modules) and keeps (Qt plugins and libraries)."""
from __future__ import annotations

import re
from pathlib import PurePath

# Python packages the app never imports but that may sit in the build environment (test or data tools),
# or that optional code paths would drag in. Whatever is imported with a fallback may be listed
# (pyqtgraph tries QtTest and copes); what is imported unconditionally may not: pyqtgraph needs
# PySide6.QtOpenGL, colorama (util.cprint) and its util.cupy_helper/numba_helper modules.
# tests/packaging/test_packaging_files.py opens the window with these blocked to prove it.
EXCLUDED_MODULES = [
    "tkinter", "_tkinter", "turtle", "turtledemo", "idlelib", "lib2to3", "pydoc_data",
    # readline: only interactive prompts (pdb, code) use it, and it drags libreadline/libtinfo along.
    "readline", "_readline",
    "matplotlib", "scipy", "sklearn", "pandas", "IPython", "jupyter", "notebook", "cupy", "numba",
    # Pillow ships (GIF and PNG-frame animations, gd_studio/media); its Tk/Qt bridges, colour management
    # and AVIF/WebP codecs do not (~7 MB: libavif alone is 5 MB)
    "PIL.ImageTk", "PIL._imagingtk", "PIL.ImageQt", "PIL.ImageCms", "PIL._imagingcms", "PIL.AvifImagePlugin",
    "PIL._avif", "PIL.WebPImagePlugin", "PIL._webp",
    # av (PyAV, MP4 export): ~105 MB unpacked would push the folder build past its 200 MB budget; packaged
    # builds export GIF and PNG frames, and say MP4 needs the pip install with the [video] extra.
    "av",
    # threadpoolctl ships: the window limits BLAS to one thread with it (ui/worker.py)
    "joblib", "narwhals", "cloudpickle",
    "pytest", "_pytest", "pytestqt", "py", "setuptools", "pkg_resources", "pip", "wheel", "build",
    "PyQt5", "PyQt6", "PySide2", "OpenGL", "OpenGL_accelerate",
    "pyqtgraph.opengl", "pyqtgraph.examples", "pyqtgraph.jupyter", "pyqtgraph.canvas", "pyqtgraph.flowchart",
    "numpy.f2py", "numpy.distutils",
    # the optional PyTorch API is for scripts; the window never imports it, and torch would add ~1 GB
    "torch", "gd_studio.torch",
] + [
    f"PySide6.{m}" for m in (
        "QtWebEngineCore", "QtWebEngineWidgets", "QtWebEngineQuick", "QtWebChannel", "QtWebSockets",
        "QtWebView", "Qt3DCore", "Qt3DRender", "Qt3DInput", "Qt3DLogic", "Qt3DAnimation", "Qt3DExtras",
        "QtMultimedia", "QtMultimediaWidgets", "QtSpatialAudio", "QtTextToSpeech",
        "QtQml", "QtQuick", "QtQuick3D", "QtQuickControls2", "QtQuickWidgets", "QtQuickTest",
        "QtCharts", "QtDataVisualization", "QtGraphs", "QtGraphsWidgets", "QtPdf", "QtPdfWidgets",
        "QtBluetooth", "QtNfc", "QtPositioning", "QtLocation", "QtSensors", "QtSerialPort", "QtSerialBus",
        "QtRemoteObjects", "QtScxml", "QtStateMachine", "QtHttpServer", "QtNetworkAuth", "QtSql", "QtTest",
        "QtDesigner", "QtUiTools", "QtHelp", "QtAxContainer", "QtConcurrent", "QtXml", "QtNetwork",
    )
]

# Plugin folder -> plugin names kept (file stem without "lib" and extension); None keeps the whole folder,
# a folder not listed is dropped. Platforms: xcb for desktops (Wayland sessions reach it via XWayland),
# offscreen for the self-test and CI, minimal as a last resort; cocoa and windows on their systems.
KEEP_PLUGINS: dict[str, frozenset[str] | None] = {
    "platforms": frozenset({"qxcb", "qoffscreen", "qminimal", "qcocoa", "qwindows", "qdirect2d"}),
    # The GTK3 theme plugin would drag a private copy of cairo/pango/gdk that can clash with the system's
    # GTK; the portal theme gives native file dialogs through D-Bus instead.
    "platformthemes": frozenset({"qxdgdesktopportal"}),
    "platforminputcontexts": frozenset({"composeplatforminputcontextplugin", "ibusplatforminputcontextplugin"}),
    "imageformats": frozenset({"qsvg", "qico", "qicns", "qjpeg", "qgif"}),
    "iconengines": None,        # qsvgicon: SVG icons in toolbars and menus
    "xcbglintegrations": None,  # xcb needs one of them to start on machines with GL
    "styles": None,             # the native widget styles on Windows and macOS
}

# Qt libraries (files on Linux/Windows, frameworks on macOS) only dropped plugins or unused modules need.
DROPPED_QT_LIBS = re.compile(
    r"Qt6?(WebEngine|WebChannel|WebSockets|WebView|3D|Multimedia|SpatialAudio|TextToSpeech|Qml|Quick|"
    r"Charts|DataVisualization|Graphs|Pdf|Bluetooth|Nfc|Positioning|Location|Sensors|Serial|RemoteObjects|"
    r"Scxml|StateMachine|HttpServer|NetworkAuth|Network|Sql|Test|Designer|UiTools|Help|VirtualKeyboard|"
    r"Wayland|WlShell|EglFS|EglFsKms|Lottie|ShaderTools|Concurrent|Xml)",
    re.IGNORECASE,
)


def plugin_stem(filename: str) -> str:
    """``libqxcb.so`` -> ``qxcb``; ``qwindows.dll`` -> ``qwindows``; ``libqcocoa.dylib`` -> ``qcocoa``."""
    stem = filename.split(".", 1)[0].lower()
    return stem[3:] if stem.startswith("lib") else stem


def keep_in_bundle(dest: str) -> bool:
    """True if a bundled file (its destination path inside the build) should stay."""
    parts = PurePath(dest.replace("\\", "/")).parts
    # Qt's .qm translations (7 MB): GD Studio's UI is English and installs no QTranslator, so nothing loads them.
    if "translations" in parts and any(p.startswith("PySide6") or p == "Qt" for p in parts):
        return False
    if "plugins" in parts:
        i = parts.index("plugins")
        if i + 2 < len(parts):  # plugins/<folder>/<file>
            folder = parts[i + 1]
            if folder not in KEEP_PLUGINS:
                return False
            names = KEEP_PLUGINS[folder]
            return names is None or plugin_stem(parts[i + 2]) in names
    # Any part: macOS frameworks are folders (QtQml.framework/...); elsewhere the file name says it.
    return not any(DROPPED_QT_LIBS.search(part) for part in parts)


def _is_root(dest: str, typecode: str) -> bool:
    parts = PurePath(dest.replace("\\", "/")).parts
    name = parts[-1].lower()
    return typecode == "EXTENSION" or "plugins" in parts or name.startswith(("libpython", "python"))


def prune_unreferenced(binaries: list[tuple], imports_of) -> tuple[list[tuple], list[str]]:
    """Drop shared libraries nothing kept links to (e.g. the cairo/pango stack of a dropped GTK plugin).

    ``binaries`` are PyInstaller (dest, src, typecode) entries; ``imports_of(src)`` lists the names a binary
    links against. Roots are Python extension modules, kept Qt plugins and libpython; everything reachable
    from them by link-time references stays. Returns (kept entries, dropped destinations).
    """
    by_name: dict[str, list[tuple]] = {}
    for entry in binaries:
        by_name.setdefault(PurePath(entry[0].replace("\\", "/")).name.lower(), []).append(entry)
    reached: set[int] = set()
    todo = [e for e in binaries if _is_root(e[0], e[2])]
    while todo:
        entry = todo.pop()
        if id(entry) in reached:
            continue
        reached.add(id(entry))
        for ref in imports_of(entry[1]):
            todo.extend(by_name.get(PurePath(str(ref).replace("\\", "/")).name.lower(), ()))
    kept = [e for e in binaries if id(e) in reached]
    dropped = [e[0] for e in binaries if id(e) not in reached]
    return kept, dropped
