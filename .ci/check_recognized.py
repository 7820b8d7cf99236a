"""CI: every image in a `hmtocr recognize` output file read as its generator's truth says (3 fields or more).

Usage: check_recognized.py RESULTS.jsonl. The truth is the `<stem>.json` beside each image (`hmtocr synth`).
Standard library only: it runs with whichever interpreter is at hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(results_path: str) -> int:
    lines = [json.loads(line) for line in Path(results_path).read_text(encoding="utf-8").splitlines() if line]
    if not lines:
        print("no results", file=sys.stderr)
        return 1
    failures = 0
    for line in lines:
        image = Path(line["path"])
        truth = json.loads(image.with_suffix(".json").read_text(encoding="utf-8"))
        response = line["response"]
        read = {
            name: response[name]["result"]
            for name in truth["fields"]
            if isinstance(response.get(name), dict) and "result" in response[name]
        }
        # the truth also holds what the wire has no field for (the issue count)
        wrong = {name: (value, truth["fields"][name]) for name, value in read.items() if value != truth["fields"][name]}
        ok = line["status"] == 200 and len(read) >= 3 and not wrong
        failures += not ok
        print(f"{'ok ' if ok else 'ERR'} {image.name}: status {line['status']}, {len(read)} fields read, wrong {wrong}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
