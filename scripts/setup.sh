#!/usr/bin/env bash
# Builds .venv from nothing: system fonts (as root), pinned Python packages, the models' files.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

need_fonts=0
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need_fonts=1
fc-list 2>/dev/null | grep -qi "WenQuanYi Zen Hei" || need_fonts=1
fc-list 2>/dev/null | grep -qi "AR PL UKai" || need_fonts=1
fc-list 2>/dev/null | grep -qi "DejaVu Sans Mono" || need_fonts=1
if [ "$need_fonts" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing CJK fonts (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      fontconfig fonts-dejavu-core fonts-noto-cjk fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-ukai \
      fonts-arphic-uming >/dev/null
  else
    echo "setup: fonts missing; install fonts-dejavu-core fonts-noto-cjk fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-ukai fonts-arphic-uming (needs root)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.lock
# mediapipe declares opencv-contrib-python, which would put a second cv2 beside the headless one:
# its real runtime dependencies are pinned in requirements.lock, so install it without deps.
.venv/bin/python -m pip install -q --no-deps "mediapipe==1.2.2"
# cpca ships the mainland's place names (the address grammar); only its CSV is read, so its pandas
# and pyahocorasick are not needed.
.venv/bin/python -m pip install -q --no-deps "cpca==0.5.5"
.venv/bin/python -m pip install -q --no-deps -e .
# Models: taken out of the wheels, and the int8 text detector built from the float one (~1 min, once).
.venv/bin/python -m models.install
.venv/bin/python - <<'PY'
import importlib.metadata as md
cv2_dists = [d.metadata["Name"] for d in md.distributions() if d.metadata["Name"].lower().startswith("opencv")]
assert cv2_dists == ["opencv-python-headless"], f"exactly one cv2 distribution expected, found {cv2_dists}"
PY
touch .venv/.setup-done
echo "setup: ready (.venv)"
