"""Build this platform's GD Studio artefacts: PyInstaller folder build, then .tar.xz + .deb, Inno Setup, or .dmg."""
from __future__ import annotations

import argparse
import gzip
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path, PurePath

PACKAGING = Path(__file__).resolve().parent
sys.path.insert(0, str(PACKAGING))
import appinfo  # noqa: E402

ROOT = appinfo.ROOT
ICONS = ROOT / "resources" / "icons"
SPEC = PACKAGING / "gd-studio.spec"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
MAX_FOLDER_MB = 200
DESKTOP_FILES = ("gd-studio.desktop", "gd-studio-scenario.desktop")
NOTICE_FILES = ("LICENSE", "THIRD-PARTY-NOTICES.md")  # at the top of every bundle, beside the executable
HDIUTIL_TRIES = 5  # hdiutil create/attach fail now and then on hosted macOS runners ("Resource busy")

# System libraries Qt's xcb platform plugin, QtGui and QtDBus load from the system (PyInstaller leaves
# libc, libGL/libEGL and libxcb itself out on purpose). Names as in Ubuntu 22.04 / Debian 12; the
# t64-renamed libraries of later releases still provide these names.
DEB_DEPENDS = (
    "libegl1",
    "libgl1",
    "libopengl0",
    "libfontconfig1",
    "libfreetype6",
    "libdbus-1-3",
    "libglib2.0-0",
    "libx11-6",
    "libx11-xcb1",
    "libxcb1",
    "libxcb-cursor0",
    "libxcb-glx0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-shm0",
    "libxcb-sync1",
    "libxcb-xfixes0",
    "libxcb-xinerama0",
    "libxcb-xinput0",
    "libxcb-xkb1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libxrender1",
)


def deb_depends() -> list[str]:
    """DEB_DEPENDS plus the build machine's glibc: the bundled Python and Qt need at least that one."""
    import platform

    libc, libc_version = platform.libc_ver()
    floor = [f"libc6 (>= {libc_version})"] if libc == "glibc" and libc_version else []
    return floor + list(DEB_DEPENDS)


def log(msg: str) -> None:
    print(f"[build] {msg}", flush=True)


def run(cmd: list[str], **kw) -> None:
    log("$ " + " ".join(shlex.quote(str(c)) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def folder_size(path: Path) -> int:
    """Bytes on disk in a tree, symlinks counted once (as links)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


# ---------------------------------------------------------------- icons and PyInstaller


def ensure_icons() -> None:
    svgs = [ICONS / "gd-studio.svg", ICONS / "gd-studio-small.svg"]
    outputs = [ICONS / f"gd-studio-{s}.png" for s in ICON_SIZES] + [ICONS / "gd-studio.ico", ICONS / "gd-studio.icns"]
    newest_svg = max(p.stat().st_mtime for p in svgs if p.exists())
    if all(p.exists() and p.stat().st_mtime >= newest_svg for p in outputs):
        return
    log("icons missing or older than their SVG: regenerating")
    run([sys.executable, PACKAGING / "make_icons.py"])


def pyinstaller(work: Path, dist: Path, clean: bool) -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("build.py: PyInstaller is not installed here: python -m pip install pyinstaller")
    env = dict(os.environ, GD_STUDIO_BUILD_DIR=str(work))
    cmd = [sys.executable, "-m", "PyInstaller", SPEC, "--noconfirm", "--log-level", "WARN",
           "--distpath", dist, "--workpath", work / "pyinstaller"]
    if clean:
        cmd.append("--clean")
    run(cmd, env=env, cwd=ROOT)


# ---------------------------------------------------------------- Linux


def strip_debug_info(folder: Path) -> int:
    """Remove debug sections from bundled ELF files that carry them (libpython: ~17 MB); returns bytes saved.

    Files under *.libs folders are left alone: auditwheel patched them, and strip breaks their layout.
    """
    if not (shutil.which("strip") and shutil.which("readelf")):
        log("strip/readelf not found: debug info stays in")
        return 0
    saved = 0
    for path in sorted(folder.rglob("*.so*")):
        if path.is_symlink() or not path.is_file() or any(p.endswith(".libs") for p in path.parts):
            continue
        sections = subprocess.run(["readelf", "-S", "-W", str(path)], capture_output=True, text=True).stdout
        if ".debug_info" not in sections:
            continue
        before = path.stat().st_size
        subprocess.run(["strip", "--strip-debug", str(path)], check=True)
        saved += before - path.stat().st_size
    return saved


def metainfo_name() -> str:
    return f"{appinfo.BUNDLE_ID}.metainfo.xml"


def write_manpage(path: Path) -> Path:
    """gd-studio.1.gz, generated from the argparse parser (packaging/manpage.py); gzip without a timestamp."""
    import manpage

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(manpage.render().encode("utf-8"))
    return path


def add_notices(target: Path) -> None:
    """LICENSE and THIRD-PARTY-NOTICES.md beside the executable (folder build, tarball, zip, installer, .app)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in NOTICE_FILES:
        shutil.copyfile(ROOT / name, target / name)


def _copy_desktop_files(share: Path) -> None:
    """share/applications, icons, MIME type, AppStream metainfo and the man page: one layout for .deb and tarball."""
    (share / "applications").mkdir(parents=True, exist_ok=True)
    # Two entries: the menu one starts the app plainly; a hidden one opens scenario files. One entry with
    # "Exec=gd-studio --scenario %f" would run "gd-studio --scenario" (an error) when started from the menu.
    for name in DESKTOP_FILES:
        (share / "applications" / name).write_text(appinfo.render_file(f"linux/{name}.in"), encoding="utf-8")
    (share / "mime" / "packages").mkdir(parents=True, exist_ok=True)
    (share / "mime" / "packages" / "gd-studio.xml").write_text(
        appinfo.render_file("linux/gd-studio-mime.xml.in"), encoding="utf-8")
    hicolor = share / "icons" / "hicolor"
    for size in ICON_SIZES:
        d = hicolor / f"{size}x{size}" / "apps"
        d.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ICONS / f"gd-studio-{size}.png", d / "gd-studio.png")
    d = hicolor / "scalable" / "apps"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ICONS / "gd-studio.svg", d / "gd-studio.svg")
    (share / "metainfo").mkdir(parents=True, exist_ok=True)
    (share / "metainfo" / metainfo_name()).write_text(
        appinfo.render_file("linux/gd-studio.metainfo.xml.in"), encoding="utf-8")
    write_manpage(share / "man" / "man1" / f"{appinfo.EXE_NAME}.1.gz")


def _normalise_modes(root: Path) -> None:
    """Packages ship 0755 folders and executables, 0644 other files, whatever the build umask was."""
    for dirpath, dirs, files in os.walk(root):
        for name in dirs:
            p = Path(dirpath, name)
            if not p.is_symlink():
                p.chmod(0o755)
        for name in files:
            p = Path(dirpath, name)
            if p.is_symlink():
                continue
            executable = p.stat().st_mode & stat.S_IXUSR
            p.chmod(0o755 if executable else 0o644)
    root.chmod(0o755)


def _mtime() -> int:
    return int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))


def make_tarball(folder: Path, out: Path, work: Path) -> Path:
    stem = appinfo.artefact_stem("linux")
    stage = work / "tarball" / stem
    shutil.rmtree(stage.parent, ignore_errors=True)
    shutil.copytree(folder, stage, symlinks=True)
    _copy_desktop_files(stage / "share")
    shutil.copy2(PACKAGING / "linux" / "install-desktop-entry.sh", stage / "install-desktop-entry.sh")
    _normalise_modes(stage)
    # xz: 49 MB where gzip makes 70 MB; every tar since 2010 unpacks it (tar -xf detects the format).
    target = out / f"{stem}.tar.xz"
    mtime = _mtime()

    def owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = mtime
        return info

    log(f"writing {target.name}")
    xz = shutil.which("xz")
    if xz:
        # xz's own threads (-T0) compress the blocks of the 180 MB tar in parallel; preset 6 costs 2% in
        # size against 9 and a quarter less time. The blocks do not depend on the thread count: same bytes.
        plain = target.with_suffix("")  # .tar
        with tarfile.open(plain, "w") as tar:
            tar.add(stage, arcname=stem, filter=owner)
        run([xz, "-T0", "-6", "--force", plain])
    else:
        with tarfile.open(target, "w:xz", preset=6) as tar:
            tar.add(stage, arcname=stem, filter=owner)
    return target


def make_deb(folder: Path, out: Path, work: Path) -> Path:
    if not shutil.which("dpkg-deb"):
        raise SystemExit("build.py: dpkg-deb not found (apt-get install dpkg) — needed for the .deb")
    root = work / "deb" / "root"
    shutil.rmtree(root.parent, ignore_errors=True)
    opt = root / "opt" / appinfo.EXE_NAME
    shutil.copytree(folder, opt, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    os.symlink(f"/opt/{appinfo.EXE_NAME}/{appinfo.EXE_NAME}", root / "usr" / "bin" / appinfo.EXE_NAME)
    _copy_desktop_files(root / "usr" / "share")
    doc = root / "usr" / "share" / "doc" / appinfo.EXE_NAME
    doc.mkdir(parents=True)
    # Debian's copyright file: GD Studio's licence, then what the bundle carries and under which terms.
    (doc / "copyright").write_text(
        f"{appinfo.APP_NAME} {appinfo.version()}\n\n" + (ROOT / "LICENSE").read_text(encoding="utf-8") + "\n"
        + (ROOT / "THIRD-PARTY-NOTICES.md").read_text(encoding="utf-8")
        + f"\nThe full licence texts are in /opt/{appinfo.EXE_NAME}/_internal/gd_studio/resources/licenses/ and in\n"
        f"the *.dist-info/licenses folders under /opt/{appinfo.EXE_NAME}/_internal/.\n", encoding="utf-8")
    changelog = doc / "changelog.gz"
    with open(changelog, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write((ROOT / "CHANGELOG.md").read_bytes())
    _normalise_modes(root)
    installed_kib = (folder_size(root) + 1023) // 1024
    # Desktop, MIME and icon caches are refreshed by dpkg triggers of desktop-file-utils, shared-mime-info
    # and hicolor-icon-theme, so the package needs no maintainer scripts.
    debian = root / "DEBIAN"
    debian.mkdir(mode=0o755)
    (debian / "control").write_text(appinfo.render_file("linux/control.in", {
        "INSTALLED_SIZE": str(installed_kib),
        "DEPENDS": ", ".join(deb_depends()),
    }), encoding="utf-8")
    (debian / "control").chmod(0o644)
    target = out / f"{appinfo.EXE_NAME}_{appinfo.version()}_{appinfo.deb_arch()}.deb"
    # xz, not dpkg's newer zstd default, so Debian releases before bookworm can install it too.
    run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, target])
    return target


# ---------------------------------------------------------------- Windows


def find_iscc() -> str | None:
    found = shutil.which("iscc") or shutil.which("ISCC")
    if found:
        return found
    for base in (os.environ.get("ProgramFiles(x86)"), os.environ.get("ProgramFiles"),
                 os.path.expandvars(r"%LOCALAPPDATA%\Programs")):
        if base:
            candidate = Path(base) / "Inno Setup 6" / "ISCC.exe"
            if candidate.exists():
                return str(candidate)
    return None


def make_zip(folder: Path, target: Path, arcroot: str) -> Path:
    log(f"writing {target.name}")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, f"{arcroot}/{path.relative_to(folder).as_posix()}")
    return target


def windows_installer(folder: Path, out: Path, work: Path) -> list[Path]:
    stem = appinfo.artefact_stem("windows")
    script = work / "windows" / "gd-studio.iss"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(appinfo.render_file("windows/gd-studio.iss.in", {
        "SOURCE_DIR": str(folder),
        "OUTPUT_DIR": str(out),
        "OUTPUT_BASENAME": f"{stem}-setup",
        "ICON_FILE": str(ICONS / "gd-studio.ico"),
    }), encoding="utf-8")
    artefacts = [make_zip(folder, out / f"{stem}-portable.zip", appinfo.EXE_NAME)]
    iscc = find_iscc()
    if iscc:
        run([iscc, "/Q", script])
        artefacts.insert(0, out / f"{stem}-setup.exe")
    else:
        log(f"Inno Setup (iscc) not found: wrote {script} but no installer; install Inno Setup 6 to make one")
    return artefacts


# ---------------------------------------------------------------- macOS


def macos_dmg(app: Path, out: Path, work: Path) -> list[Path]:
    if shutil.which("codesign"):
        # Apple silicon refuses unsigned code; an ad-hoc signature over the whole bundle keeps it launchable
        # (users still see the unidentified-developer warning — see the README).
        run(["codesign", "--force", "--deep", "--sign", "-", app])
    target = out / f"{appinfo.artefact_stem('macos')}.dmg"
    if not shutil.which("hdiutil"):
        log("hdiutil not found (not macOS?): no .dmg")
        return []
    stage = work / "dmg"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copytree(app, stage / app.name, symlinks=True)
    os.symlink("/Applications", stage / "Applications")
    target.unlink(missing_ok=True)
    retry(["hdiutil", "create", "-volname", f"{appinfo.APP_NAME} {appinfo.version()}", "-srcfolder", stage,
           "-ov", "-format", "UDZO", target], tries=HDIUTIL_TRIES)
    return [target]


def retry(cmd: list, tries: int, pause: float = 5.0, runner=None) -> None:
    """Run ``cmd`` up to ``tries`` times, pausing between failures (hdiutil's intermittent 'Resource busy')."""
    runner = runner or run
    for attempt in range(1, tries + 1):
        try:
            runner(cmd)
            return
        except subprocess.CalledProcessError as exc:
            if attempt == tries:
                raise
            log(f"attempt {attempt}/{tries} failed ({exc.returncode}); retrying in {pause:.0f} s")
            time.sleep(pause)


# ---------------------------------------------------------------- main


def write_info(out: Path, info: dict[str, str]) -> Path:
    """KEY=value lines a shell (CI) can source: where the build and its self-test executable are."""
    path = out / "build-info.sh"
    # Forward slashes: Git Bash on Windows runs C:/x/gd-studio-cli.exe, and so does cmd.
    text = "".join(f"{k}={shlex.quote(v.as_posix() if isinstance(v, PurePath) else str(v))}\n"
                   for k, v in info.items())
    path.write_text(text, encoding="utf-8")
    return path


def selftest_exe(dist: Path) -> Path:
    folder = dist / appinfo.EXE_NAME
    if sys.platform == "win32":
        return folder / f"{appinfo.EXE_NAME}-cli.exe"
    if sys.platform == "darwin":
        return dist / f"{appinfo.APP_NAME}.app" / "Contents" / "MacOS" / appinfo.EXE_NAME
    return folder / appinfo.EXE_NAME


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=PACKAGING / "dist", help="artefact folder")
    parser.add_argument("--work", type=Path, default=PACKAGING / "build", help="scratch folder")
    parser.add_argument("--skip-pyinstaller", action="store_true", help="reuse the existing folder build")
    parser.add_argument("--no-installers", action="store_true", help="stop after the folder build")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    parser.add_argument("--self-test", action="store_true", help="run the frozen --self-test afterwards")
    args = parser.parse_args(argv)
    out, work = args.out.resolve(), args.work.resolve()
    dist = out / "pyinstaller"
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    version = appinfo.version()
    log(f"{appinfo.APP_NAME} {version} for {sys.platform}/{appinfo.machine()}, "
        f"scenario files {appinfo.scenario_extension()}")
    ensure_icons()
    folder = dist / appinfo.EXE_NAME
    if not args.skip_pyinstaller:
        pyinstaller(work, dist, args.clean)
        if sys.platform.startswith("linux") and folder.is_dir():
            log(f"stripped debug info: {mb(strip_debug_info(folder))} saved")
    if not folder.is_dir():
        raise SystemExit(f"build.py: no folder build at {folder}")
    add_notices(folder)
    if sys.platform == "darwin":
        add_notices(dist / f"{appinfo.APP_NAME}.app" / "Contents" / "Resources")
    size = folder_size(folder)
    log(f"folder build {folder}: {mb(size)}")

    artefacts: list[Path] = []
    if not args.no_installers:
        if sys.platform.startswith("linux"):
            artefacts += [make_tarball(folder, out, work), make_deb(folder, out, work)]
        elif sys.platform == "win32":
            artefacts += windows_installer(folder, out, work)
        elif sys.platform == "darwin":
            artefacts += macos_dmg(dist / f"{appinfo.APP_NAME}.app", out, work)

    info = {"VERSION": version, "FOLDER": folder, "FOLDER_BYTES": size, "SELFTEST_EXE": selftest_exe(dist)}
    for path in artefacts:
        key = {".deb": "DEB", ".xz": "TARBALL", ".exe": "INSTALLER", ".zip": "ZIP", ".dmg": "DMG"}[path.suffix]
        info[key] = path
    info["ARTEFACTS"] = " ".join(p.as_posix() for p in artefacts)
    write_info(out, info)
    for path in artefacts:
        log(f"artefact {path} ({mb(path.stat().st_size)})")
    log(f"done in {time.perf_counter() - t0:.0f} s")

    if size >= MAX_FOLDER_MB * 1e6:
        log(f"WARNING: folder build is {mb(size)}, over the {MAX_FOLDER_MB} MB budget")
    if args.self_test:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        return subprocess.run([str(selftest_exe(dist)), "--self-test"], env=env).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
