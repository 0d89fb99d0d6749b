#!/bin/sh
# Render the HTML audit report of the example account in headless Chromium and save a screenshot.
# The report must display without any network access (Chromium runs with networking features off).
#   scripts/screenshot_report.sh [ACCOUNT.json] [OUT.png]
set -eu
account="${1:-examples/account.json}"
png="${2:-/tmp/kmssmt-report.png}"
html="$(mktemp -d)/report.html"
python -m kmssmt audit "$account" --format html -o "$html" || [ $? -eq 1 ]
profile="$(mktemp -d)"
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --user-data-dir="$profile" --screenshot="$png" --window-size=1400,1000 \
  "file://$html" >/dev/null 2>&1
test -s "$png"
echo "$png"
