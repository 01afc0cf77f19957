#!/bin/sh
# Adds GD Studio from this unpacked folder to your own menu (~/.local/share), no root needed.
# Run it again after moving the folder; run with --remove to take the entry away.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
if [ "${1:-}" = "--remove" ]; then
    rm -f "$data/applications/gd-studio.desktop" "$data/applications/gd-studio-scenario.desktop" \
          "$data/mime/packages/gd-studio.xml"
    find "$data/icons/hicolor" -name 'gd-studio.*' -delete 2>/dev/null || true
else
    mkdir -p "$data/applications" "$data/mime/packages"
    cp -r "$here/share/icons" "$data/"
    cp "$here/share/mime/packages/gd-studio.xml" "$data/mime/packages/"
    # The menu entry must name this folder's executable: no gd-studio on PATH in a tarball install.
    for entry in gd-studio.desktop gd-studio-scenario.desktop; do
        sed -e "s|^Exec=gd-studio|Exec=\"$here/gd-studio\"|" -e "s|^TryExec=gd-studio|TryExec=$here/gd-studio|" \
            "$here/share/applications/$entry" > "$data/applications/$entry"
    done
fi
command -v update-mime-database >/dev/null && update-mime-database "$data/mime" || true
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "done: $data/applications/gd-studio.desktop"
