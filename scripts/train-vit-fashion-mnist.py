#!/usr/bin/python3
"""Train the small Vision Transformer bundled in models/fashion-mnist-vit/ on Fashion-MNIST and export it to ONNX.

    /usr/bin/python3 scripts/train-vit-fashion-mnist.py [--epochs 3] [--batch 128] [--lr 2e-3] [--seed 42]
                                                       [--train-limit 60000] [--threads 1] [--out DIR]

Data: Debian package `dataset-fashion-mnist` (gzipped IDX files in /usr/share/datasets/fashion-mnist;
`apt-get install -y dataset-fashion-mnist`). Needs Debian's python3-torch, python3-torchvision, python3-onnx.

Model: torchvision.models.vision_transformer.VisionTransformer(image_size=28, patch_size=7, num_layers=2,
num_heads=4, hidden_dim=48, mlp_dim=96, num_classes=10) with its patch embedding made single-channel
(conv_proj = Conv2d(1, 48, 7, stride 7)): 16 patches + a class token, pre-norm blocks, GELU MLP, the class token's
final LayerNorm output into Linear(48, 10). Input: grayscale [N, 1, 28, 28], pixel / 255 (no mean/std).

Training: AdamW (weight decay 0.05), linear warm-up over the first 200 steps then cosine decay to 0, batch 128,
cross-entropy, no augmentation, no dropout. Seeded (torch.manual_seed, a seeded shuffle); the epoch count is fixed
beforehand and the test set is only measured, never used for selection. One thread by default: on the 2 shared,
busy cores of the machine it was written on, two threads made each step about 4x slower than one.

Writes to --out (default models/fashion-mnist-vit): model.onnx (opset 17, dynamic batch, output 'logits' [N, 10],
no softmax), metadata.json (the schema of models/fashion-mnist/metadata.json: classes, input, output, architecture,
accuracy, history, files with sha256, the command) and the accuracy and ONNX graph summary printed at the end.
The samples are the CNN's (models/fashion-mnist/samples/); metadata.json lists the ViT's prediction for each.
"""

import argparse
import collections
import gzip
import hashlib
import io
import json
import math
import os
import struct
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.vision_transformer import VisionTransformer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = "/usr/share/datasets/fashion-mnist"
DATA_PACKAGE = "dataset-fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CNN_SAMPLES = "models/fashion-mnist/samples"
ARCH = dict(image_size=28, patch_size=7, num_layers=2, num_heads=4, hidden_dim=48, mlp_dim=96)
OPSET = 17


def read_idx(path):
    """A gzipped IDX file (uint8 data) as a numpy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not a uint8 IDX file")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_split(prefix):
    images = read_idx(os.path.join(DATA_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # [N, 1, 28, 28]
    return x, torch.from_numpy(labels.astype(np.int64))


def build_model():
    model = VisionTransformer(**ARCH, num_classes=len(CLASSES))
    # torchvision's patch embedding expects RGB: make it single-channel, with the same init rule
    # (truncated normal, std sqrt(1 / fan_in)) that torchvision uses for conv_proj
    conv = nn.Conv2d(1, ARCH["hidden_dim"], kernel_size=ARCH["patch_size"], stride=ARCH["patch_size"])
    fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
    nn.init.trunc_normal_(conv.weight, std=math.sqrt(1 / fan_in))
    nn.init.zeros_(conv.bias)
    model.conv_proj = conv
    # torchvision zero-initialises the head: a small random head lets the first steps train every layer
    nn.init.normal_(model.heads.head.weight, std=0.02)
    return model


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct, preds = 0, []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            p = model(x[i:i + batch]).argmax(1)
            preds.append(p)
            correct += int((p == y[i:i + batch]).sum())
    return correct, torch.cat(preds)


def export_onnx(model, path):
    model.eval()
    example = torch.zeros(2, 1, 28, 28)
    for p in model.parameters():
        p.requires_grad_(True)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # grad enabled on purpose: under torch.no_grad() torch 1.13 exports nn.MultiheadAttention through its
        # fused kernel (aten::_native_multi_head_attention), which ONNX has no op for
        torch.onnx.export(model, example, buf, opset_version=OPSET, do_constant_folding=True,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    data = buf.getvalue()
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto)
    with open(path, "wb") as f:
        f.write(data)
    return data, dict(sorted(collections.Counter(n.op_type for n in proto.graph.node).items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--train-limit", type=int, default=60000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(ROOT, "models", "fashion-mnist-vit"))
    args = parser.parse_args()
    command = " ".join(["/usr/bin/python3", "scripts/train-vit-fashion-mnist.py", *sys.argv[1:]])
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x_train, y_train = load_split("train")
    x_test, y_test = load_split("t10k")
    x_train, y_train = x_train[:args.train_limit], y_train[:args.train_limit]
    model = build_model()
    params = sum(p.numel() for p in model.parameters())
    print(f"{params} parameters, {len(x_train)} training images", flush=True)

    steps_per_epoch = math.ceil(len(x_train) / args.batch)
    total = steps_per_epoch * args.epochs
    warmup = min(200, total)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warmup if s < warmup else 0.5 * (1 + math.cos(math.pi * (s - warmup) /
                                                                                    max(1, total - warmup))))
    gen = torch.Generator().manual_seed(args.seed)
    history, t0 = [], time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        t_epoch, loss_sum, correct = time.time(), 0.0, 0
        order = torch.randperm(len(x_train), generator=gen)
        for i in range(0, len(x_train), args.batch):
            idx = order[i:i + args.batch]
            xb, yb = x_train[idx], y_train[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += float(loss) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
        test_correct, _ = evaluate(model, x_test, y_test)
        entry = {"epoch": epoch, "loss": round(loss_sum / len(x_train), 4),
                 "trainAccuracy": round(correct / len(x_train), 4), "testAccuracy": test_correct / len(x_test),
                 "seconds": round(time.time() - t_epoch)}
        history.append(entry)
        print(json.dumps(entry), flush=True)
    train_seconds = round(time.time() - t0)

    test_correct, preds = evaluate(model, x_test, y_test)
    with torch.no_grad():
        logits_f32 = model(x_test[:1000])
        logits_f64 = model.double()(x_test[:1000].double())
    model.float()
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "model.onnx")
    data, op_types = export_onnx(model, onnx_path)

    labels = json.load(open(os.path.join(ROOT, CNN_SAMPLES, "labels.json")))
    samples = []
    for s in labels:
        p = int(preds[s["testIndex"]])
        samples.append({"file": s["file"], "testIndex": s["testIndex"], "label": s["label"],
                        "predicted": p, "predictedClassName": CLASSES[p], "correct": p == s["label"]})
    meta = {
        "name": "fashion-mnist-vit",
        "classes": CLASSES,
        "input": {
            "onnx": {"layout": "NCHW", "shape": ["N", 1, 28, 28], "name": "input"},
            "dtype": "float32",
            "range": [0, 1],
            "scale": "1/255",
        },
        "output": {"onnx": "'logits' [N,10], pre-softmax (no Softmax node)"},
        "architecture": (
            "VisionTransformer(image_size=28, patch_size={patch_size}, num_layers={num_layers}, num_heads={num_heads}, "
            "hidden_dim={hidden_dim}, mlp_dim={mlp_dim}): Conv2d(1,{hidden_dim},{patch_size},stride {patch_size}) patch "
            "embedding -> 16 tokens + class token + position embedding -> {num_layers} pre-norm encoder blocks "
            "(LayerNorm, {num_heads}-head self-attention, residual; LayerNorm, Linear({hidden_dim},{mlp_dim}), GELU, "
            "Linear({mlp_dim},{hidden_dim}), residual) -> LayerNorm -> class token -> Linear({hidden_dim},10)"
        ).format(**ARCH),
        "torchvision": ("torchvision.models.vision_transformer.VisionTransformer with conv_proj = "
                        f"Conv2d(1, {ARCH['hidden_dim']}, {ARCH['patch_size']}, {ARCH['patch_size']})"),
        "parameters": params,
        "testAccuracy": test_correct / len(x_test),
        "testCorrect": test_correct,
        "testSize": len(x_test),
        "trainedOn": f"Fashion-MNIST training set, first {len(x_train)} of 60000 images (Debian package "
                     f"{DATA_PACKAGE})",
        "epochs": args.epochs,
        "batchSize": args.batch,
        "optimizer": f"AdamW(lr={args.lr}, weight_decay=0.05), 200 steps linear warm-up then cosine decay to 0",
        "augmentation": None,
        "seed": args.seed,
        "threads": args.threads,
        "torchVersion": torch.__version__,
        "torchvisionVersion": torchvision.__version__,
        "trainSeconds": train_seconds,
        "history": history,
        "onnx": {
            "opset": OPSET,
            "opTypes": op_types,
            "exportedWith": "torch.onnx.export(do_constant_folding=True), eval mode, grad enabled",
        },
        "float32VsFloat64": {
            "images": 1000,
            "maxAbsLogitDiff": float((logits_f32.double() - logits_f64).abs().max()),
        },
        "samples": {"dir": CNN_SAMPLES, "count": len(samples),
                    "misclassified": [s["file"] for s in samples if not s["correct"]], "predictions": samples},
        "files": {"model.onnx": {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}},
        "command": command,
    }
    with open(os.path.join(args.out, "metadata.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"test accuracy {test_correct / len(x_test):.4f} ({test_correct}/{len(x_test)}), "
          f"train {train_seconds} s, onnx {len(data)} B, ops {op_types}", flush=True)


if __name__ == "__main__":
    main()
