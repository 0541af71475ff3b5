#!/usr/bin/env python3
"""The PyTorch peer of convoy's `quick` and `resnet` models: the same layers, batch size,
augmentation (per-sample random crop with 4-pixel zero padding, horizontal flip), optimiser
(SGD, Nesterov momentum 0.9, weight decay 5e-4 on weights only), one-cycle learning rate,
label smoothing and thread count. Reads the CIFAR-10 binary batches (data_batch_1..5.bin,
test_batch.bin) from a folder, or the JPEG archive. Prints one key=value line per epoch, as
convoy-train does, and writes a JSON summary.

Each epoch's crops and flips are made in one vectorised pass before the timed training step,
so that images_per_sec measures PyTorch's training step; end_to_end_images_per_sec adds that
pass. --augment-in-step puts the augmentation back inside the step.

usage: pytorch_train.py --data PATH [--model quick] [--epochs 10] [--threads 2] [--json out.json]
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = np.array([125.3, 123.0, 113.9], dtype=np.float32)
STD = np.array([63.0, 62.1, 66.7], dtype=np.float32)


def read_batches(folder, names):
    raw = b"".join(open(os.path.join(folder, n), "rb").read() for n in names)
    rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)
    labels = torch.from_numpy(rec[:, 0].astype(np.int64))
    images = rec[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32)
    images = (images - MEAN[None, :, None, None]) / STD[None, :, None, None]
    return torch.from_numpy(images), labels


CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _decode(item):
    import io
    from PIL import Image
    data, label = item
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB").resize((32, 32)), dtype=np.uint8).transpose(2, 0, 1), label


def read_image_archive(path, split, train_batches=5):
    """An image-folder tree in a .tar.gz (train/<class>/*.jpg, test/<class>/*.jpg), decoded in parallel."""
    import multiprocessing
    import tarfile
    items = []
    with tarfile.open(path) as tar:
        for m in tar:
            parts = m.name.split("/")
            if not m.isfile() or len(parts) < 3 or parts[-3] != split or parts[-2] not in CLASSES:
                continue
            items.append((parts[-2], parts[-1], tar.extractfile(m).read()))
    items.sort(key=lambda t: (CLASSES.index(t[0]), t[1]))
    if split == "train" and train_batches < 5:  # the same class-balanced subset convoy takes
        kept, pos, last = [], 0, None
        for it in items:
            pos = pos + 1 if it[0] == last else 0
            last = it[0]
            if pos % 5 < train_batches:
                kept.append(it)
        items = kept
    with multiprocessing.Pool() as pool:
        decoded = pool.map(_decode, [(d, CLASSES.index(c)) for c, _, d in items], chunksize=256)
    images = np.stack([d[0] for d in decoded]).astype(np.float32)
    labels = torch.tensor([d[1] for d in decoded], dtype=torch.int64)
    images = (images - MEAN[None, :, None, None]) / STD[None, :, None, None]
    return torch.from_numpy(images), labels


def quick():
    def block(cin, cout, pool):
        return [nn.Conv2d(cin, cout, 5, padding=2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True), pool]
    return nn.Sequential(
        *block(3, 32, nn.MaxPool2d(3, 2, 1)),
        *block(32, 32, nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
        *block(32, 64, nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
        nn.Flatten(), nn.Linear(1024, 64), nn.ReLU(inplace=True), nn.Linear(64, 10))


def resnet():
    def cbr(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    class Residual(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.body = nn.Sequential(*cbr(c, c), *cbr(c, c))

        def forward(self, x):
            return x + self.body(x)

    class Scale(nn.Module):
        def forward(self, x):
            return x * 0.125

    return nn.Sequential(
        *cbr(3, 64),
        nn.Conv2d(64, 128, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(128), nn.ReLU(inplace=True),
        Residual(128),
        nn.Conv2d(128, 256, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(256), nn.ReLU(inplace=True),
        nn.Conv2d(256, 512, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(512), nn.ReLU(inplace=True),
        Residual(512),
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(512, 10, bias=False), Scale())


def augment(x, gen, cutout=0):
    n, dev = x.shape[0], x.device
    padded = F.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=gen).to(dev)
    dx = torch.randint(0, 9, (n,), generator=gen).to(dev)
    ar = torch.arange(32, device=dev)
    rows = (dy[:, None] + ar)[:, :, None]
    cols = (dx[:, None] + ar)[:, None, :]
    out = padded.permute(0, 2, 3, 1)[torch.arange(n, device=dev)[:, None, None], rows, cols].permute(0, 3, 1, 2)
    flip = (torch.rand(n, generator=gen) < 0.5).to(dev)
    out = torch.where(flip[:, None, None, None], out.flip(3), out)
    if cutout:
        cy = torch.randint(0, 32, (n,), generator=gen).to(dev)
        cx = torch.randint(0, 32, (n,), generator=gen).to(dev)
        half = cutout // 2
        ym = ((ar[None, :] >= (cy[:, None] - half)) & (ar[None, :] < (cy[:, None] - half + cutout)))
        xm = ((ar[None, :] >= (cx[:, None] - half)) & (ar[None, :] < (cx[:, None] - half + cutout)))
        out = out * (~(ym[:, :, None] & xm[:, None, :]))[:, None, :, :]
    return out.contiguous()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True,
                    help="folder of CIFAR-10 binary batches, or a .tar.gz of an image-folder tree")
    ap.add_argument("--model", default="quick", choices=["quick", "resnet"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--pct-start", type=float, default=0.3)
    ap.add_argument("--cutout", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-batches", type=int, default=5)
    ap.add_argument("--max-steps", type=int, default=0, help="stop each epoch after this many steps (timing only)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tta", action="store_true",
                    help="evaluate each test image with its mirror image, logits averaged (convoy-train --tta)")
    ap.add_argument("--eval-every", type=int, default=1,
                    help="evaluate the test set after every N-th epoch and the last (0: the last only; convoy-train "
                         "--eval-every)")
    ap.add_argument("--channels-last", action="store_true",
                    help="run the network in the channels_last memory format")
    ap.add_argument("--augment-in-step", action="store_true",
                    help="augment each batch inside the timed step (the old input path) instead of the whole "
                         "epoch at once before it")
    ap.add_argument("--json", default="")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device(a.device)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    if a.data.endswith((".tar.gz", ".tgz")):
        xtr, ytr = read_image_archive(a.data, "train", a.train_batches)
        xte, yte = read_image_archive(a.data, "test")
    else:
        xtr, ytr = read_batches(a.data, [f"data_batch_{i}.bin" for i in range(1, a.train_batches + 1)])
        xte, yte = read_batches(a.data, ["test_batch.bin"])
    xtr, ytr, xte, yte = xtr.to(dev), ytr.to(dev), xte.to(dev), yte.to(dev)
    model = (quick() if a.model == "quick" else resnet()).to(dev)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": a.weight_decay}, {"params": no_decay, "weight_decay": 0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = len(xtr) // a.batch_size
    if a.max_steps:
        steps_per_epoch = min(steps_per_epoch, a.max_steps)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps_per_epoch * a.epochs,
                                                pct_start=a.pct_start, anneal_strategy="cos", div_factor=25,
                                                final_div_factor=1e4, cycle_momentum=False)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    epochs = []
    start = time.time()
    for epoch in range(1, a.epochs + 1):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen).to(dev)
        sync()
        t_epoch = time.time()
        if not a.augment_in_step:
            # The epoch's crops and flips in one vectorised pass, outside the timed training step
            # (convoy prepares its batches on another thread, also outside the step).
            used = perm[:steps_per_epoch * a.batch_size]
            xaug = torch.cat([augment(xtr[used[i:i + 4096]], gen, a.cutout) for i in range(0, len(used), 4096)])
            xaug = xaug.contiguous(memory_format=fmt)
            yaug = ytr[used]
        sync()
        t0 = time.time()
        loss_sum, correct, seen = 0.0, 0, 0
        for s in range(steps_per_epoch):
            if a.augment_in_step:
                idx = perm[s * a.batch_size:(s + 1) * a.batch_size]
                x, y = augment(xtr[idx], gen, a.cutout).contiguous(memory_format=fmt), ytr[idx]
            else:
                x, y = xaug[s * a.batch_size:(s + 1) * a.batch_size], yaug[s * a.batch_size:(s + 1) * a.batch_size]
            out = model(x)
            loss = loss_fn(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            seen += len(y)
        sync()
        train_s = time.time() - t0
        epoch_s = time.time() - t_epoch
        m = dict(epoch=epoch, train_loss=loss_sum / seen, train_acc=correct / seen)
        if epoch == a.epochs or (a.eval_every > 0 and epoch % a.eval_every == 0):
            model.eval()
            with torch.no_grad():
                tl, tc = 0.0, 0
                for s in range(0, len(xte), 500):
                    xb = xte[s:s + 500].contiguous(memory_format=fmt)
                    out = model(xb)
                    if a.tta:
                        out = 0.5 * (out + model(torch.flip(xb, dims=[3])))
                    tl += F.cross_entropy(out, yte[s:s + 500], reduction="sum").item()
                    tc += (out.argmax(1) == yte[s:s + 500]).sum().item()
            m.update(test_loss=tl / len(xte), test_acc=tc / len(xte))
        m.update(images_per_sec=seen / train_s, end_to_end_images_per_sec=seen / epoch_s,
                 elapsed_s=time.time() - start)
        epochs.append(m)
        print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in m.items()), flush=True)
    summary = dict(peer="pytorch", torch=torch.__version__, model=a.model, device=str(dev), threads=a.threads, batch_size=a.batch_size,
                   tta="flip" if a.tta else "none", eval_every=a.eval_every,
                   channels_last=a.channels_last, input_path="in step" if a.augment_in_step else "per epoch, off the step",
                   epochs=epochs, final_test_acc=epochs[-1]["test_acc"],
                   mean_images_per_sec=sum(e["images_per_sec"] for e in epochs) / len(epochs))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
