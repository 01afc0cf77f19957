#!/usr/bin/env bash
# Linux packaging check for CI (.ci/run calls it inside its venv): build the folder build, .tar.gz and .deb;
# run the frozen --self-test from the folder, from the unpacked tarball and from the .deb unpacked with
# dpkg -x; check what the .deb installs; fail if the folder build reaches 250 MB. No display, no prompts.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=true QT_QPA_PLATFORM=offscreen PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
PY=${PYTHON:-python}
MAX_MB=250
SELFTEST_TIMEOUT=${SELFTEST_TIMEOUT:-300}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gd-studio-pkg.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

say() { printf '[ci_linux] %s\n' "$*"; }
fail() { printf '[ci_linux] FAILED: %s\n' "$*" >&2; exit 1; }

"$PY" -m pip install --quiet "pyinstaller>=6.10,<7"
"$PY" -c 'import PyInstaller; print("[ci_linux] PyInstaller", PyInstaller.__version__)'

t0=$(date +%s)
"$PY" packaging/build.py
build_seconds=$(( $(date +%s) - t0 ))
# shellcheck disable=SC1091
. packaging/dist/build-info.sh
[ -n "${DEB:-}" ] && [ -f "$DEB" ] || fail "build.py made no .deb"
[ -n "${TARBALL:-}" ] && [ -f "$TARBALL" ] || fail "build.py made no .tar.gz"

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
    printf '%s\n' "$out" | grep -q '^self-test ok:' || fail "self-test ($label) printed no 'self-test ok:' line"
    first_window[$label]=$(printf '%s\n' "$out" | sed -n 's/.*window \([0-9.]*\) s.*/\1/p' | head -1)
    say "$label: self-test took $(awk "BEGIN{printf \"%.2f\", $end-$start}") s wall"
}

# 1. the folder build as PyInstaller left it
selftest frozen "$SELFTEST_EXE"

# 2. the tarball as a user unpacks it
mkdir "$scratch/tar"
tar -xzf "$TARBALL" -C "$scratch/tar"
tar_root=$(find "$scratch/tar" -mindepth 1 -maxdepth 1 -type d)
for f in gd-studio install-desktop-entry.sh share/applications/gd-studio.desktop \
         share/applications/gd-studio-scenario.desktop \
         share/icons/hicolor/48x48/apps/gd-studio.png share/icons/hicolor/scalable/apps/gd-studio.svg \
         share/mime/packages/gd-studio.xml; do
    [ -e "$tar_root/$f" ] || fail "tarball lacks $f"
done
selftest tarball "$tar_root/gd-studio"

# 3. the .deb, unpacked without installing
dpkg-deb --info "$DEB" | sed 's/^/[deb] /'
deb_list=$(dpkg-deb --contents "$DEB")
for f in ./opt/gd-studio/gd-studio ./usr/bin/gd-studio ./usr/share/applications/gd-studio.desktop \
         ./usr/share/icons/hicolor/256x256/apps/gd-studio.png ./usr/share/mime/packages/gd-studio.xml; do
    printf '%s\n' "$deb_list" | grep -q " $f\( \|$\)" || fail ".deb does not install $f"
done
mkdir "$scratch/deb"
dpkg -x "$DEB" "$scratch/deb"
[ "$(readlink "$scratch/deb/usr/bin/gd-studio")" = /opt/gd-studio/gd-studio ] || fail "/usr/bin/gd-studio link is wrong"
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$scratch"/deb/usr/share/applications/*.desktop || fail "desktop files invalid"
fi
selftest deb "$scratch/deb/opt/gd-studio/gd-studio"

# Every bundled Qt library a kept plugin links to must be in the bundle (catches over-pruning); system
# libraries missing on this machine are only listed: the .deb's Depends brings them on a real install.
internal="$scratch/deb/opt/gd-studio/_internal"
missing=$(find "$internal" -name '*.so*' -type f -print0 |
          LD_LIBRARY_PATH="$internal:$internal/PySide6/Qt/lib" xargs -0 ldd 2>/dev/null |
          awk '/not found/ {print $1}' | sort -u || true)
if [ -n "$missing" ]; then
    say "libraries not on this machine (from Depends on install): $(echo $missing)"
    if printf '%s\n' "$missing" | grep -q '^libQt6\|^libpyside\|^libshiboken\|^libpython'; then
        fail "bundled libraries missing from the build: $(echo $missing)"
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
