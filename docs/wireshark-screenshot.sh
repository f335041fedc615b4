#!/usr/bin/env bash
# Takes docs/wireshark.png: Wireshark's window with a balloon transaction decoded by the
# generated plugin, from captures/linux-qemu.pcapng as convert writes it.
#
# Needs Debian's wireshark-qt, xvfb, xauth, xdotool and imagemagick (import):
#   apt-get install wireshark-qt xvfb xauth xdotool imagemagick
# Runs Wireshark under Xvfb with a throw-away HOME, so no settings of the user's are read
# or changed.  Usage: docs/wireshark-screenshot.sh [DMDISSECT] (default: dmdissect on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
dmdissect=${1:-dmdissect}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$dmdissect" wireshark -o "$work/hvdm.lua"
"$dmdissect" convert captures/linux-qemu.pcapng "$work/linux-qemu.pcapng"
mkdir -p "$work/home/.config/wireshark"
# The packet list above the packet details, no bytes pane, no update check.
cat > "$work/home/.config/wireshark/preferences" <<'PREFS'
gui.layout_type: 1
gui.layout_content_1: PLIST
gui.layout_content_2: PDETAILS
gui.layout_content_3: NONE
gui.update.enabled: FALSE
PREFS

cat > "$work/shoot.sh" <<SHOOT
set -eu
wireshark -X lua_script:$work/hvdm.lua -r $work/linux-qemu.pcapng \\
    -Y 'hvdm.transaction.kind == "balloon" && hvdm.transaction.number == 1 || hvdm.type_name == "DM_STATUS_REPORT" && frame.number < 14 && frame.number > 9' \\
    -g 15 >/dev/null 2>&1 &
pid=\$!
for _ in \$(seq 60); do
    win=\$(xdotool search --onlyvisible --name 'linux-qemu' 2>/dev/null | head -n 1 || true)
    [ -n "\$win" ] && break
    sleep 1
done
sleep 3
xdotool windowmove "\$win" 0 0 windowsize "\$win" 1600 1000
sleep 2
# In the details pane: open the HVDM tree and its header (the message's fields follow it,
# the range list stays closed), and the transaction at its end.
xdotool mousemove 150 574 click 1
sleep 1
xdotool key --window "\$win" Right Down Right
sleep 1
xdotool key --window "\$win" End Right
sleep 2
import -window root -crop 1600x1000+0+0 $work/shot.png
kill \$pid
SHOOT
HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" \
    xvfb-run -a -s "-screen 0 1600x1000x24" bash "$work/shoot.sh"
cp "$work/shot.png" docs/wireshark.png
echo "docs/wireshark.png written"
