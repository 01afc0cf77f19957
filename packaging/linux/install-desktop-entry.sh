#!/bin/sh
# Adds GD Studio from this unpacked folder to your own menu (~/.local/share), no root needed.
# Run it again after moving the folder; run with --remove to take the entry away.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}

case $here in
    *"
"*) echo "install-desktop-entry.sh: the folder name contains a line break, which a menu entry cannot hold;" \
         "move the folder and run this again" >&2
        exit 1 ;;
esac

# The Desktop Entry spec's two layers of escaping, applied to this folder's path:
#  - exec_arg: one quoted Exec argument: \ " ` $ get a backslash (quoting rule), then every \ is doubled
#    (string rule), and % becomes %% (field codes);
#  - string_value: a plain string value (TryExec): \ becomes \\.
# awk reads the path from the environment, so no character in it is special to the shell, sed or awk.
exec_arg() {
    GD_PATH=$1 awk 'BEGIN {
        s = ENVIRON["GD_PATH"]; out = ""
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1)
            if (c == "\\") c = "\\\\\\\\"
            else if (c == "\"" || c == "`" || c == "$") c = "\\\\" c
            else if (c == "%") c = "%%"
            out = out c
        }
        printf "\"%s\"", out
    }'
}
string_value() {
    GD_PATH=$1 awk 'BEGIN {
        s = ENVIRON["GD_PATH"]; out = ""
        for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); out = out (c == "\\" ? "\\\\" : c) }
        printf "%s", out
    }'
}

if [ "${1:-}" = "--remove" ]; then
    rm -f "$data/applications/gd-studio.desktop" "$data/applications/gd-studio-scenario.desktop" \
          "$data/mime/packages/gd-studio.xml"
    find "$data/icons/hicolor" -name 'gd-studio.*' -delete 2>/dev/null || true
else
    mkdir -p "$data/applications" "$data/mime/packages"
    cp -r "$here/share/icons" "$data/"
    cp "$here/share/mime/packages/gd-studio.xml" "$data/mime/packages/"
    # The menu entry must name this folder's executable: no gd-studio on PATH in a tarball install.
    exec_path=$(exec_arg "$here/gd-studio")
    try_path=$(string_value "$here/gd-studio")
    for entry in gd-studio.desktop gd-studio-scenario.desktop; do
        # Only the leading "gd-studio" of Exec/TryExec is replaced; awk's index/substr, not a regex
        # replacement, so & | \ in the path stay literal.
        GD_EXEC=$exec_path GD_TRY=$try_path awk '
            index($0, "Exec=gd-studio") == 1 { print "Exec=" ENVIRON["GD_EXEC"] substr($0, 15); next }
            index($0, "TryExec=gd-studio") == 1 { print "TryExec=" ENVIRON["GD_TRY"] substr($0, 18); next }
            { print }' "$here/share/applications/$entry" > "$data/applications/$entry"
    done
fi
# Cache refreshes are optional: a desktop without these tools rescans on its own.
if command -v update-mime-database >/dev/null; then update-mime-database "$data/mime" || true; fi
if command -v update-desktop-database >/dev/null; then update-desktop-database "$data/applications" || true; fi
if command -v gtk-update-icon-cache >/dev/null; then gtk-update-icon-cache -q -t "$data/icons/hicolor" || true; fi
echo "done: $data/applications/gd-studio.desktop"
