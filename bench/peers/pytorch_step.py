#!/usr/bin/env python3
"""One training step of convoy's quick or resnet model in PyTorch, from convoy's own weights
and batch, as the reference that tests/train/pytorch_step_test.cpp holds convoy's step to (after
llm.c's test against PyTorch): the logits, the loss and every parameter gradient of the first
step, and the losses of `--steps` steps of SGD on that same batch.

Both files are in convoy's model file format (docs/model-format.md), read and written here
with the standard library and NumPy:
  --weights  a model file written by convoy (save_model): the parameters in the order of the
             model's layers, then the batch-norm running statistics;
  --batch    tensors "x" (N, 3, 32, 32), normalised, and "labels" (N) as float32;
  --out      written here: "logits" (N, 10), "loss" (1), "losses" (steps) and, for each
             parameter, "grad:" + its convoy name.
The models are the PyTorch twins in pytorch_train.py; parameters are matched by position and
checked by shape. SGD as convoy-train's: Nesterov momentum, weight decay on weights (rank > 1)
only, label smoothing, on the CPU with `--threads` threads, in float64 by default (`--dtype`):
from the same float32 weights and batch, the float64 step is the exact answer that convoy's
float32 step is held to. A float32 reference would carry its own rounding, and where an
activation sits within that rounding of a ReLU's zero or of its max-pool window's other
maximum, its decision goes the other way from the exact one and moves every gradient below
it (seen: 7e-4 on resnet's first gradients, PyTorch float32 against float64).

usage: pytorch_step.py --model quick --weights W.convoy --batch B.convoy --out R.convoy
"""
import argparse
import json
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_train import quick, resnet  # noqa: E402  the PyTorch twins of the models

MAGIC = b"CONVOYMF"
VERSION = 1


def round_up(v, m):
    return (v + m - 1) // m * m


def read_convoy(path):
    """Returns (header, [(name, array)]) after checking the magic and every checksum."""
    data = open(path, "rb").read()
    if data[:8] != MAGIC:
        raise SystemExit(f"{path}: not a convoy model file")
    version, hlen = struct.unpack_from("<II", data, 8)
    if version > VERSION:
        raise SystemExit(f"{path}: format version {version} is newer than this reader's {VERSION}")
    (stored,) = struct.unpack_from("<I", data, 16 + hlen)
    if zlib.crc32(data[8:16 + hlen]) != stored:
        raise SystemExit(f"{path}: header checksum mismatch")
    header = json.loads(data[16:16 + hlen])
    start = round_up(16 + hlen + 4, 64)
    tensors = []
    for t in header["tensors"]:
        raw = data[start + t["offset"]:start + t["offset"] + t["nbytes"]]
        if zlib.crc32(raw) != t["crc32"]:
            raise SystemExit(f"{path}: tensor {t['name']} checksum mismatch")
        tensors.append((t["name"], np.frombuffer(raw, dtype="<f4").reshape(t["shape"]).copy()))
    return header, tensors


def write_convoy(path, header, tensors):
    index, blobs, offset = [], [], 0
    for name, array in tensors:
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        index.append({"name": name, "shape": list(array.shape), "dtype": "float32", "offset": offset,
                      "nbytes": len(raw), "crc32": zlib.crc32(raw)})
        blobs.append((offset, raw))
        offset = round_up(offset + len(raw), 64)
    header = dict(header, tensors=index, data_bytes=offset)
    text = json.dumps(header).encode()
    head = struct.pack("<II", VERSION, len(text)) + text
    out = bytearray(MAGIC + head + struct.pack("<I", zlib.crc32(head)))
    out += b"\0" * (round_up(len(out), 64) - len(out))
    start = len(out)
    out += b"\0" * offset
    for off, raw in blobs:
        out[start + off:start + off + len(raw)] = raw
    with open(path, "wb") as f:
        f.write(out)


def is_buffer(name):
    return name.endswith("running_mean") or name.endswith("running_var")


def load_weights(model, tensors):
    params = [(n, a) for n, a in tensors if not is_buffer(n)]
    buffers = [(n, a) for n, a in tensors if is_buffer(n)]
    torch_params = list(model.parameters())
    torch_buffers = [b for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")]
    if len(params) != len(torch_params) or len(buffers) != len(torch_buffers):
        raise SystemExit(f"convoy has {len(params)} parameters and {len(buffers)} buffers, the PyTorch twin "
                         f"{len(torch_params)} and {len(torch_buffers)}")
    with torch.no_grad():
        for (name, array), p in list(zip(params, torch_params)) + list(zip(buffers, torch_buffers)):
            if tuple(array.shape) != tuple(p.shape):
                raise SystemExit(f"{name}: convoy shape {array.shape}, PyTorch {tuple(p.shape)}")
            p.copy_(torch.from_numpy(array))
    return [n for n, _ in params], torch_params


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=["quick", "resnet"])
    ap.add_argument("--weights", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                    help="precision of the reference step (the weights and batch are float32 either way)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True)
    model = quick() if a.model == "quick" else resnet()
    names, params = load_weights(model, read_convoy(a.weights)[1])
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    model = model.to(dtype)
    params = list(model.parameters())
    batch = dict(read_convoy(a.batch)[1])
    x = torch.from_numpy(batch["x"]).to(dtype)
    y = torch.from_numpy(batch["labels"].astype(np.int64))

    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": a.weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=a.lr, momentum=a.momentum, nesterov=True)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
    model.train()
    losses, first = [], None
    for step in range(a.steps):
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = loss_fn(logits, y)
        loss.backward()
        if step == 0:
            first = [("logits", logits.detach().numpy()), ("loss", loss.detach().reshape(1).numpy())]
            first += [("grad:" + n, p.grad.detach().numpy().copy()) for n, p in zip(names, params)]
        losses.append(loss.item())
        opt.step()
    out = first + [("losses", np.array(losses, dtype=np.float32))]
    write_convoy(a.out, {"format": "convoy-pytorch-step", "torch": torch.__version__, "model": a.model,
                         "lr": a.lr, "momentum": a.momentum, "weight_decay": a.weight_decay,
                         "label_smoothing": a.label_smoothing, "steps": a.steps, "dtype": a.dtype}, out)
    print(f"pytorch_step: {a.model}, torch {torch.__version__}, loss {losses[0]:.6f} -> {losses[-1]:.6f} "
          f"in {a.steps} steps", flush=True)


if __name__ == "__main__":
    main()
