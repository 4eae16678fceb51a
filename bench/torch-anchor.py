#!/usr/bin/env python3
"""Native anchor for the ImageNet bench (bench/imagenet.mjs): PyTorch's own forward pass and the input
gradient by autograd (forward + backward, what a gradient-based explanation costs natively, and the
cost floor of Zennit, whose rules are autograd hooks) on torchvision architectures with random weights.

    /usr/bin/python3 bench/torch-anchor.py --models vgg16,resnet50 --batches 1,8 --threads 1,2 [--runs 7]

Prints one JSON object: {"torch": version, "results": [{model, batch, threads, forward_s, gradient_s,
forward_runs, gradient_runs}]}, times are medians in seconds. Needs Debian's python3-torch and
python3-torchvision; no downloads (weights are random, which does not change the time)."""
import argparse
import json
import statistics
import time

import torch
import torchvision


def median_time(fn, runs, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="vgg16,resnet50")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--size", type=int, default=224)
    a = ap.parse_args()
    torch.manual_seed(0)
    results = []
    for name in a.models.split(","):
        model = getattr(torchvision.models, name)().eval()
        for p in model.parameters():
            p.requires_grad_(False)
        for n in [int(b) for b in a.batches.split(",")]:
            x = torch.rand(n, 3, a.size, a.size)
            for t in [int(v) for v in a.threads.split(",")]:
                torch.set_num_threads(t)

                def forward():
                    with torch.no_grad():
                        model(x)

                def gradient():
                    xi = x.clone().requires_grad_(True)
                    out = model(xi)
                    out[torch.arange(n), out.argmax(1)].sum().backward()

                runs = max(3, a.runs if n == 1 else a.runs // 2)
                f, fr = median_time(forward, runs)
                g, gr = median_time(gradient, runs)
                results.append({"model": name, "batch": n, "threads": t, "forward_s": f, "gradient_s": g, "forward_runs": fr, "gradient_runs": gr})
    print(json.dumps({"torch": torch.__version__, "results": results}))


if __name__ == "__main__":
    main()
