#!/usr/bin/env python3
"""Checks that #include arrows point down the layers of docs/ARCHITECTURE.md, and names every
include that does not. Run by scripts/test.sh before the build; exits 1 on a violation.

    kernels <- engine <- {layers, data} <- dist <- train <- {serve, report} <- tools

kernels/ may include one file of the engine: engine/error.h, the error type.
"""
import os
import re
import sys

LAYERS = {  # folder: the folders it may include
    "kernels": set(),
    "engine": {"kernels"},
    "layers": {"engine", "kernels"},
    "data": {"engine", "kernels"},
    "dist": {"layers", "engine", "kernels"},
    "train": {"dist", "data", "layers", "engine", "kernels"},
    "serve": {"train", "dist", "data", "layers", "engine", "kernels"},
    "report": {"train", "dist", "data", "layers", "engine", "kernels"},
    "tools": {"serve", "report", "train", "dist", "data", "layers", "engine", "kernels"},
}
ALLOWED_FILES = {"kernels": {"engine/error.h"}}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([^"]+)"')


def main(root):
    bad = []
    for layer, allowed in LAYERS.items():
        for folder, _, files in os.walk(os.path.join(root, layer)):
            for name in sorted(files):
                if not name.endswith((".h", ".cpp", ".cu", ".cuh")):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or m.group(1) == layer or m.group(1) not in LAYERS:
                            continue
                        target = m.group(1) + "/" + m.group(2)
                        if m.group(1) in allowed or target in ALLOWED_FILES.get(layer, set()):
                            continue
                        bad.append(f"{os.path.relpath(path, root)}:{number}: {layer}/ includes {target}, "
                                   f"which is above it (allowed: {', '.join(sorted(allowed)) or 'nothing'})")
    for line in bad:
        print(line, file=sys.stderr)
    if bad:
        print(f"check-layers: {len(bad)} include(s) point up the layers (docs/ARCHITECTURE.md)", file=sys.stderr)
        return 1
    print("check-layers: every include points down the layers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")))
