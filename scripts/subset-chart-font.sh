#!/usr/bin/env bash
# Rebuilds internal/chart/font/WenQuanYiMicroHei-subset.ttf, the CJK font the
# KPI charts embed, from Debian's fonts-wqy-microhei package: WenQuanYi Micro
# Hei is Droid Sans Fallback (CJK) merged with Droid Sans (Latin, digits),
# TrueType outlines, Apache-2.0. Droid Sans Fallback alone has no ASCII
# glyph, not even digits, and the chart library draws a text in one font.
#   apt-get install -y fonts-wqy-microhei python3-fonttools
# The subset holds printable ASCII, Latin-1 (¥, ·, ×), general punctuation,
# CJK symbols and punctuation, full-width forms, and the 3,755 characters of
# GB2312 level 1 (bytes 0xB0A1-0xD7F9: the common simplified characters).
# A character outside it renders as the .notdef box. To widen it, put the
# extra characters in EXTRA_TEXT (EXTRA_TEXT='赟喆' scripts/subset-chart-font.sh)
# or add a range below, run this again and commit the font; every character
# costs about 0.2 KB.
# Usage: scripts/subset-chart-font.sh   (env: SRC, PYTHON, EXTRA_TEXT)
set -euo pipefail
cd "$(dirname "$0")/.."

src="${SRC:-/usr/share/fonts/truetype/wqy/wqy-microhei.ttc}"
py="${PYTHON:-python3}"
out=internal/chart/font/WenQuanYiMicroHei-subset.ttf
chars=$(mktemp)
trap 'rm -f "$chars"' EXIT

EXTRA_TEXT="${EXTRA_TEXT:-}" "$py" - >"$chars" <<'PY'
import os, sys
cs = set()
for lo, hi in [(0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x206F), (0x2100, 0x2199),
               (0x3000, 0x303F), (0xFF00, 0xFFEF)]:
    cs.update(chr(c) for c in range(lo, hi + 1))
for hi in range(0xB0, 0xD8):  # GB2312 level 1: rows 16-55
    for lo in range(0xA1, 0xFF):
        try:
            cs.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass  # row 55 ends at 0xF9
cs.update(os.environ["EXTRA_TEXT"])
sys.stdout.write("".join(sorted(cs)))
PY

"$py" -m fontTools.subset "$src" \
  --text-file="$chars" \
  --font-number=0 \
  --output-file="$out" \
  --layout-features='' \
  --name-IDs='*' \
  --notdef-outline \
  --no-hinting \
  --drop-tables+=DSIG
ls -l "$out"
