"""The wire skin: the vendor-compatible HTTP service, its client, and the command line."""

import os

# onnxruntime (1.31) writes a telemetry database and a device id under ~/.cache and a session file
# under $TMPDIR as soon as it is imported, unless this is set first; the service promises to write
# nothing but its keys and counters. Set here because every entry point (hmtocr, uvicorn's factory)
# imports `api` before the engine.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
