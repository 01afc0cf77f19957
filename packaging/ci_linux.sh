#!/usr/bin/env bash
# Linux packaging check for CI (.ci/run calls it inside its venv): build the folder build, .tar.xz and .deb;
# run the frozen --self-test from the folder, from the unpacked tarball and from the .deb unpacked with
# dpkg -x; check what the .deb installs (desktop files, metainfo, man page, licences); check the frozen
# start-up checks (no display, Wayland fallback, a missing X11 library, a real X server when Xvfb is
# there); fail if the folder build reaches 200 MB. No prompts.
set -euo pipefail
# Never 'printf ... | grep -q' here: grep -q exits at its first match, printf then dies of SIGPIPE and
# pipefail turns a found line into a failure. Here-strings (<<<) instead.
cd "$(dirname "$0")/.."
export CI=true QT_QPA_PLATFORM=offscreen PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
PY=${PYTHON:-python}
MAX_MB=200
SELFTEST_TIMEOUT=${SELFTEST_TIMEOUT:-300}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gd-studio-pkg.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

say() { printf '[ci_linux] %s\n' "$*"; }
fail() { printf '[ci_linux] FAILED: %s\n' "$*" >&2; exit 1; }

"$PY" -m pip install --quiet "pyinstaller>=6.10,<7"
"$PY" -c 'import PyInstaller; print("[ci_linux] PyInstaller", PyInstaller.__version__)'

t0=$(date +%s)
if [ "${GD_STUDIO_REUSE_BUILD:-}" = 1 ] && [ -f packaging/dist/build-info.sh ]; then
    say "GD_STUDIO_REUSE_BUILD=1: checking the artefacts already in packaging/dist (CI always rebuilds)"
else
    "$PY" packaging/build.py
fi
build_seconds=$(( $(date +%s) - t0 ))
# shellcheck disable=SC1091
. packaging/dist/build-info.sh
if [ -z "${DEB:-}" ] || [ ! -f "$DEB" ]; then fail "build.py made no .deb"; fi
if [ -z "${TARBALL:-}" ] || [ ! -f "$TARBALL" ]; then fail "build.py made no .tar.xz"; fi
case $TARBALL in *.tar.xz) ;; *) fail "the tarball should be .tar.xz: $TARBALL" ;; esac

# Runs one self-test; prints its line; records the time to the first window it reports.
declare -A first_window
selftest() {
    local label=$1; shift
    local start end out rc=0
    start=$(date +%s.%N)
    out=$(cd "$scratch" && timeout "$SELFTEST_TIMEOUT" "$@" --self-test 2>&1) || rc=$?
    end=$(date +%s.%N)
    printf '%s\n' "$out" | sed "s/^/[$label] /"
    [ "$rc" -eq 0 ] || fail "self-test ($label) exited with $rc"
    grep -q '^self-test ok:' <<<"$out" || fail "self-test ($label) printed no 'self-test ok:' line"
    first_window[$label]=$(printf '%s\n' "$out" | sed -n 's/.*window \([0-9.]*\) s.*/\1/p' | head -1)
    say "$label: self-test took $(awk "BEGIN{printf \"%.2f\", $end-$start}") s wall"
}

# 1. the folder build as PyInstaller left it
selftest frozen "$SELFTEST_EXE"

# 2. the tarball as a user unpacks it
mkdir "$scratch/tar"
tar -xJf "$TARBALL" -C "$scratch/tar"
tar_root=$(find "$scratch/tar" -mindepth 1 -maxdepth 1 -type d)
for f in gd-studio install-desktop-entry.sh share/applications/gd-studio.desktop \
         share/applications/gd-studio-scenario.desktop \
         share/icons/hicolor/48x48/apps/gd-studio.png share/icons/hicolor/scalable/apps/gd-studio.svg \
         share/mime/packages/gd-studio.xml share/metainfo/org.gdstudio.GDStudio.metainfo.xml \
         share/man/man1/gd-studio.1.gz LICENSE THIRD-PARTY-NOTICES.md; do
    [ -e "$tar_root/$f" ] || fail "tarball lacks $f"
done
selftest tarball "$tar_root/gd-studio"

# 3. the .deb, unpacked without installing
dpkg-deb --info "$DEB" | sed 's/^/[deb] /'
deb_list=$(dpkg-deb --contents "$DEB")
for f in ./opt/gd-studio/gd-studio ./usr/bin/gd-studio ./usr/share/applications/gd-studio.desktop \
         ./usr/share/icons/hicolor/256x256/apps/gd-studio.png ./usr/share/mime/packages/gd-studio.xml \
         ./usr/share/metainfo/org.gdstudio.GDStudio.metainfo.xml ./usr/share/man/man1/gd-studio.1.gz \
         ./usr/share/doc/gd-studio/copyright ./opt/gd-studio/LICENSE ./opt/gd-studio/THIRD-PARTY-NOTICES.md; do
    grep -q " $f\( \|$\)" <<<"$deb_list" || fail ".deb does not install $f"
done
mkdir "$scratch/deb"
dpkg -x "$DEB" "$scratch/deb"
[ "$(readlink "$scratch/deb/usr/bin/gd-studio")" = /opt/gd-studio/gd-studio ] || fail "/usr/bin/gd-studio link is wrong"
# The validators are installed by .ci/run and the workflow: missing ones are a CI failure, not a skip.
for tool in desktop-file-validate appstreamcli mandoc; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (.ci/run installs it)"
done
desktop-file-validate "$scratch"/deb/usr/share/applications/*.desktop || fail "desktop files invalid"
appstreamcli validate --no-net "$scratch"/deb/usr/share/metainfo/*.metainfo.xml || fail "metainfo invalid"
gzip -dc "$scratch/deb/usr/share/man/man1/gd-studio.1.gz" > "$scratch/gd-studio.1"
mandoc -Tlint -W warning "$scratch/gd-studio.1" || fail "man page has warnings"
grep -q "Replacing the Qt libraries" "$scratch/deb/usr/share/doc/gd-studio/copyright" || fail "copyright lacks the LGPL notes"
selftest deb "$scratch/deb/opt/gd-studio/gd-studio"

# What the bundle carries, and what it no longer does (issue 16: smaller bundles, licences everywhere).
internal="$scratch/deb/opt/gd-studio/_internal"
for f in gd_studio/resources/licenses/LGPL-3.0.txt gd_studio/resources/licenses/GPL-3.0.txt; do
    [ -f "$internal/$f" ] || fail "bundle lacks $f"
done
for f in LICENSE THIRD-PARTY-NOTICES.md Python-LICENSE.txt; do
    compgen -G "$internal/gd_studio-*.dist-info/licenses/$f" >/dev/null || fail "bundle metadata lacks $f"
done
compgen -G "$internal/numpy-*.dist-info/licenses/LICENSE.txt" >/dev/null || fail "bundle lacks NumPy's licence file"
if [ -n "$(find "$internal" -path '*PySide6/Qt/translations*' -print -quit)" ]; then fail "Qt translations still ship"; fi
if [ -n "$(find "$internal" -name 'readline*.so' -print -quit)" ]; then fail "readline still ships"; fi

# Start-up checks of the frozen app (gd_studio/preflight.py), with the real bundle: one line, never Qt's abort.
frozen_exe="$scratch/deb/opt/gd-studio/gd-studio"
expect_line() {  # label, expected exit code, pattern, command...
    local label=$1 want=$2 pattern=$3 rc=0 out
    shift 3
    out=$(cd "$scratch" && timeout 60 "$@" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed "s/^/[$label] /"
    [ "$rc" -eq "$want" ] || fail "$label: exit $rc, expected $want"
    grep -q -- "$pattern" <<<"$out" || fail "$label: no line matching '$pattern'"
}
expect_line no-display 2 "no display to open the window on" \
    env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM "$frozen_exe"
expect_line wayland 2 "no Wayland platform plugin; using X11" \
    env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=wayland "$frozen_exe"
# A missing X11 library, faked: an ldd that reports libxcb-icccm.so.4 as not found.
mkdir "$scratch/fakebin"
printf '#!/bin/sh\necho "\tlibxcb-icccm.so.4 => not found"\necho "\tlibxcb-keysyms.so.1 => not found"\n' \
    > "$scratch/fakebin/ldd"
chmod +x "$scratch/fakebin/ldd"
expect_line missing-lib 2 "libxcb-icccm4 libxcb-keysyms1" \
    env -u QT_QPA_PLATFORM DISPLAY=:99 PATH="$scratch/fakebin:$PATH" "$frozen_exe"
# A real X server: the frozen xcb plugin must open the window (still running after 15 s = it did), also
# when Wayland was asked for.
if command -v xvfb-run >/dev/null; then
    for platform in xcb wayland; do
        rc=0
        out=$(cd "$scratch" && xvfb-run -a env QT_QPA_PLATFORM=$platform \
              GD_STUDIO_SETTINGS="$scratch/xvfb-settings.ini" timeout 15 "$frozen_exe" 2>&1) || rc=$?
        printf '%s\n' "$out" | sed "s/^/[xvfb-$platform] /"
        [ "$rc" -eq 124 ] || fail "under Xvfb with QT_QPA_PLATFORM=$platform the app exited with $rc"
        if grep -q "could not load the Qt platform plugin" <<<"$out"; then fail "Qt could not load xcb"; fi
    done
    say "xvfb: the frozen app ran on X11 (and fell back to it from wayland)"
elif [ "${CI:-}" = true ]; then
    fail "xvfb-run is not installed (.ci/run installs it)"
fi

# Every bundled Qt library a kept plugin links to must be in the bundle (catches over-pruning); system
# libraries missing on this machine are only listed: the .deb's Depends brings them on a real install.
missing=$(find "$internal" -name '*.so*' -type f -print0 |
          LD_LIBRARY_PATH="$internal:$internal/PySide6/Qt/lib" xargs -0 ldd 2>/dev/null |
          awk '/not found/ {print $1}' | sort -u || true)
if [ -n "$missing" ]; then
    say "libraries not on this machine (from Depends on install): $(printf '%s\n' "$missing" | tr '\n' ' ')"
    if grep -q '^libQt6\|^libpyside\|^libshiboken\|^libpython' <<<"$missing"; then
        fail "bundled libraries missing from the build: $(printf '%s\n' "$missing" | tr '\n' ' ')"
    fi
fi

# 4. the installed package (pip install ., as .ci/run does), when this venv has one
if (cd "$scratch" && "$PY" -c 'import gd_studio, sys; sys.exit("site-packages" not in gd_studio.__file__)') 2>/dev/null; then
    selftest wheel "$PY" -m gd_studio
else
    say "gd_studio is not pip-installed in this venv: skipping the installed-package self-test"
fi

folder_bytes=$(du -sb "$FOLDER" | cut -f1)
folder_mb=$(awk "BEGIN{printf \"%.1f\", $folder_bytes/1e6}")
say "---- summary ----"
say "version            $VERSION"
say "build time         ${build_seconds} s"
say "folder build       ${folder_mb} MB unpacked (budget ${MAX_MB} MB)"
say "tarball            $(basename "$TARBALL") $(du -h "$TARBALL" | cut -f1)"
say "deb                $(basename "$DEB") $(du -h "$DEB" | cut -f1)"
for label in "${!first_window[@]}"; do
    say "first window       $label: ${first_window[$label]} s after process start (offscreen)"
done
awk "BEGIN{exit !($folder_bytes < $MAX_MB*1e6)}" || fail "folder build is ${folder_mb} MB, over ${MAX_MB} MB"
say "ok"
