#!/usr/bin/env python3
"""Predicted data-parallel scaling efficiency of convoy's bucketed ring allreduce.

An alpha-beta model (time = latency per message step + bytes / bandwidth) of a
hierarchical ring allreduce on 8-GPU nodes: a ring over NVLink inside a node, then a ring
over the network between nodes, each node's share crossing its network link once each way
(NCCL's tree/ring choice and its multiple channels are folded into the bandwidth figures).
Against it, a measured compute time per step. Weak scaling: each GPU keeps its batch.

    step time = compute + exposed communication
    efficiency = compute / step time

Without overlap every byte waits for the end of backward. With overlap (dist/gradient_buckets)
bucket j's allreduce starts when backward has produced it; the network handles one bucket
at a time; only what is still running when backward ends is exposed.

Assumptions (stated, not measured here):
  - Gradient bytes become ready uniformly over backward, backward = 2/3 of compute.
    (resnet's largest tensors are its last convolutions, done first in backward, so this is
    conservative for it.)
  - Compute per step on an H100: PyTorch's measured throughput on an H100
    (bench/RESULTS.md, FP32): quick 31,000 images/s at batch 128 (4.13 ms/step), resnet
    15,880 images/s at batch 512 (32.2 ms/step). convoy's own GPU step is not yet measured
    end to end; its kernels are slower, which only raises efficiency (more compute per byte).
  - NVLink (H100 SXM, NVLink 4): 360 GB/s bus bandwidth, 3 us per ring step.
  - Network: 100, 400 or 3200 Gb/s per node (one NIC, or 8x400 EFA on p5), 80% usable,
    15 us per ring step.
  - float32 gradients; fp16/bf16 bucket compression would halve the bytes.

Usage: bench/scaling_model.py [--bucket-mb 4] [--json OUT]
"""
import argparse
import json
import math

MODELS = {  # parameters (Model::num_params), per-GPU batch, measured H100 images/s
    "quick": {"params": 145_706, "batch": 128, "images_per_s": 31_000},
    "resnet": {"params": 6_573_120, "batch": 512, "images_per_s": 15_880},
}
NVLINK_BUSBW = 360e9
NVLINK_ALPHA = 3e-6
NET_ALPHA = 15e-6
NET_EFFICIENCY = 0.8
GPUS_PER_NODE = 8


def ring_time(nbytes, ranks, busbw, alpha):
    """Ring allreduce of nbytes over `ranks`: 2(n-1) steps, each moving nbytes/n."""
    if ranks <= 1:
        return 0.0
    return 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * nbytes / busbw


def allreduce_time(nbytes, gpus, net_gbit):
    local = min(gpus, GPUS_PER_NODE)
    nodes = math.ceil(gpus / GPUS_PER_NODE)
    net_bytes_per_s = net_gbit * 1e9 / 8 * NET_EFFICIENCY
    # Inside the node; then the node's whole share over its network link (hierarchical).
    return ring_time(nbytes, local, NVLINK_BUSBW, NVLINK_ALPHA) + ring_time(nbytes, nodes, net_bytes_per_s, NET_ALPHA)


def exposed_comm(grad_bytes, bucket_bytes, backward_s, gpus, net_gbit, overlap):
    buckets = []
    left = grad_bytes
    while left > 0:
        buckets.append(min(bucket_bytes, left))
        left -= buckets[-1]
    if not overlap:
        return sum(allreduce_time(b, gpus, net_gbit) for b in buckets)
    end, done = 0.0, 0.0
    for b in buckets:
        done += b
        ready = backward_s * done / grad_bytes  # uniform readiness over backward
        end = max(end, ready) + allreduce_time(b, gpus, net_gbit)
    return max(0.0, end - backward_s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bucket-mb", type=float, default=4.0, help="convoy's default (dist/gradient_buckets.h)")
    ap.add_argument("--json", help="write the table as JSON here")
    args = ap.parse_args()
    bucket = args.bucket_mb * 1e6
    rows = []
    print(f"bucket cap {args.bucket_mb} MB; efficiency = compute / (compute + exposed allreduce)")
    print(f"{'model':7} {'grad MB':>8} {'step ms':>8} {'Gb/s':>5} {'overlap':>7} " +
          " ".join(f"{g:>6}" for g in (1, 2, 4, 8, 16)))
    for name, m in MODELS.items():
        grad_bytes = 4 * m["params"]
        compute = m["batch"] / m["images_per_s"]
        backward = compute * 2 / 3
        for net in (100, 400, 3200):
            for overlap in (False, True):
                effs = []
                for gpus in (1, 2, 4, 8, 16):
                    exposed = exposed_comm(grad_bytes, bucket, backward, gpus, net, overlap)
                    effs.append(compute / (compute + exposed))
                rows.append({"model": name, "grad_mb": grad_bytes / 1e6, "compute_ms": compute * 1e3,
                             "net_gbps": net, "overlap": overlap,
                             "efficiency": dict(zip((1, 2, 4, 8, 16), effs))})
                print(f"{name:7} {grad_bytes / 1e6:8.2f} {compute * 1e3:8.2f} {net:5d} {str(overlap):>7} " +
                      " ".join(f"{100 * e:5.1f}%" for e in effs))
    target = next(r for r in rows if r["model"] == "resnet" and r["net_gbps"] == 400 and r["overlap"])
    e16 = target["efficiency"][16]
    print(f"target: resnet, 16 GPUs, 400 Gb/s, overlap: {100 * e16:.1f}% (>= 90% {'met' if e16 >= 0.9 else 'NOT met'})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bucket_mb": args.bucket_mb, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
