#!/usr/bin/env bash
# Regenerates icons/ (app icon + one tray icon per profile/state) with ImageMagick.
# The PNGs are committed; run this only to change the artwork.
set -euo pipefail
cd "$(dirname "$0")/../icons"
CONVERT=/usr/bin/convert   # Debian's ImageMagick (another `convert` may shadow it in PATH)

# App icon: a rail switch (one track forking into two) on a rounded slate square.
app() {
  local size=$1 out=$2
  $CONVERT -size 512x512 xc:none \
    -fill '#0f172a' -draw 'roundrectangle 24,24 488,488 96,96' \
    -stroke '#38bdf8' -strokewidth 36 -fill none -draw 'line 256,420 256,300' \
    -draw 'bezier 256,300 256,200 170,170 150,100' \
    -stroke '#a78bfa' -draw 'bezier 256,300 256,200 342,170 362,100' \
    -stroke none -fill '#f8fafc' -draw 'circle 256,300 256,330' \
    -resize "${size}x${size}" "PNG32:$out"
}
app 32 32x32.png
app 128 128x128.png
app 256 128x128@2x.png
app 512 icon.png

# Tray icons: a filled disc whose colour says the active profile, and a paused variant.
tray() {
  local color=$1 out=$2 glyph=$3
  $CONVERT -size 64x64 xc:none -fill "$color" -draw 'circle 32,32 32,4' \
    -fill white -draw "$glyph" "PNG32:$out"
}
tray '#16a34a' tray-local.png 'polygon 20,40 32,18 44,40'              # green: local
tray '#2563eb' tray-cloud.png 'roundrectangle 16,30 48,44 7,7'          # blue: cloud
tray '#7c3aed' tray-other.png 'circle 32,32 32,24'                      # violet: another profile
tray '#64748b' tray-paused.png 'rectangle 22,20 28,44 rectangle 36,20 42,44'  # grey: paused
