#!/usr/bin/python3
"""Export small transformers and sequence models to ONNX, as test fixtures (and the real ViT/ConvNeXt for the bench).

    /usr/bin/python3 scripts/export-transformers.py --small [OUTDIR]   # default OUTDIR: test/fixtures/transformers
    /usr/bin/python3 scripts/export-transformers.py --full OUTDIR      # vit_b_16 and convnext_tiny; not committed

Needs Debian's python3-torch, python3-torchvision and python3-onnx; no network: every model has random weights.

--small: the models of MODELS below, built small (the `construction` field of each NAME.json says exactly what):
  vit, vit_1block       torchvision VisionTransformer, 3x32x32 input, patch 8, hidden 32, 2 heads (2 and 1 layers)
  vit_biasfree          vit with every bias, LayerNorm bias, the position embedding and the class token zeroed
  convnext              torchvision ConvNeXt with two small CNBlockConfig stages, 3x32x32
  text_cnn              Embedding -> Conv1d -> ReLU -> AdaptiveMaxPool1d(1) -> Linear over token ids [N, T]
  text_transformer      Embedding + position-embedding parameter -> 2-layer nn.TransformerEncoder (batch_first,
                        post-norm, ReLU MLP) -> mean over tokens -> Linear
  text_transformer_gelu the same with a GELU MLP
  text_transformer_biasfree  text_transformer with every bias, LayerNorm bias and the position embedding
                        zeroed

Weights: PyTorch's default initialisation of each Linear/Conv/Embedding/MultiheadAttention, then every bias ~ N(0, 0.1), every LayerNorm weight
~ U(0.5, 1.5), class token and position embedding ~ N(0, 0.1) and ConvNeXt's layer scale ~ U(0.5, 1) (torchvision
initialises the ViT head, class token and biases to zero and the layer scale to 1e-6, which would leave the logits
or the blocks trivial). Seeded per model name.

Each model is exported four times with torch.onnx.export(do_constant_folding=True): NAME.opset17 (LayerNorm is a
LayerNormalization node) and NAME.opset13 (LayerNorm exported as ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt,
Div, Mul, Add), each with a dynamic batch axis and, as NAME.opsetXX.fixed, with batch 2. Exported in eval mode
but NOT under torch.no_grad() and with parameters that require grad: under no_grad torch 1.13 routes
nn.MultiheadAttention (and nn.TransformerEncoderLayer) through fused kernels (aten::_native_multi_head_attention,
aten::_transformer_encoder_layer_fwd) that cannot be exported; with grad enabled attention decomposes into
MatMul/Reshape/Transpose/Softmax.

Written per export: NAME.onnx or NAME.onnx.gz (when gzip makes it smaller) and NAME.json: {name, model, family,
file, onnx_bytes, onnx_sha256, input (name, ONNX element type and shape as the graph declares them, per-sample
shape, the dtype of the inputs file), classes, opset, dynamic, batch, op_types (histogram), node_ops (every node's
op type in graph order), input_consumers (op types of the nodes that read the graph input), params, inputs,
torch_logits (float32 model, for the 2 samples of the inputs file), torch_logits_f64 (the same model in float64),
f32_vs_f64, gradient (see below), bias_free, export settings, construction}.

Per model (shared by its four exports): MODEL.grad.f64, little-endian float64, torch's gradient in float64 of the
target logit (the argmax of sample 0's float64 logits; the same class for both samples) with respect to
  - image models: the input image, [2, C, H, W];
  - text models: the embedding output (the Gather result, before the position embedding is added), [2, T, D],
    followed by its sum over D, [2, T] (the per-token gradient).
NAME.json's `gradient` says the target, the layout and the byte offset of each block.

Plus images.f32 (float32 [2, 3, 32, 32], uniform in [0, 1), seeded), tokens.i32 (int32 [2, T] token ids, seeded,
in [0, vocab); the ONNX graphs take them as int64) and index.json listing every entry and model.
Deterministic: fixed seeds, one thread, gzip without timestamps.

--full OUTDIR: torchvision vit_b_16 and convnext_tiny (1000 classes, 3x224x224, randomised as above), opset 17,
dynamic batch, with torch's float32 and float64 logits for 1 seeded input (OUTDIR/images224.f32). For the bench.
"""

import argparse
import collections
import copy
import gzip
import hashlib
import io
import json
import os
import struct
import sys
import warnings
import zlib

import onnx
import torch
import torch.nn as nn
import torchvision
from torchvision.models import convnext_tiny, vit_b_16
from torchvision.models.convnext import CNBlock, CNBlockConfig, ConvNeXt
from torchvision.models.vision_transformer import VisionTransformer

INPUT_SEED = 20240611
BATCH = 2  # samples in the inputs files, and the batch of the fixed-batch exports
CLASSES = 10  # image models
TEXT_CLASSES = 3
IMAGE_SHAPE = (3, 32, 32)
VOCAB = 40
SEQ_LEN = 12
OPSETS = (17, 13)

# ---------------------------------------------------------------------------------------------------------------
# Text models
# ---------------------------------------------------------------------------------------------------------------


class TextCNN(nn.Module):
    """Embedding -> Conv1d over time -> ReLU -> max over time -> Linear. Input: token ids [N, T]."""

    def __init__(self, vocab=VOCAB, dim=16, channels=24, kernel=3, classes=TEXT_CLASSES):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(dim, channels, kernel)
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.fc = nn.Linear(channels, classes)

    def embed(self, ids):
        return self.embedding(ids)  # [N, T, D]

    def head(self, e):
        x = torch.relu(self.conv(e.transpose(1, 2)))  # [N, C, T - k + 1]
        return self.fc(self.pool(x).squeeze(2))

    def forward(self, ids):
        return self.head(self.embed(ids))


class TextTransformer(nn.Module):
    """Embedding + position embedding -> nn.TransformerEncoder (batch_first) -> mean over tokens -> Linear."""

    def __init__(self, activation="relu", vocab=VOCAB, seq_len=SEQ_LEN, dim=32, heads=2, mlp=64, layers=2,
                 classes=TEXT_CLASSES):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.pos_embedding = nn.Parameter(torch.zeros(1, seq_len, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, mlp, dropout=0.1, activation=activation, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.fc = nn.Linear(dim, classes)

    def embed(self, ids):
        return self.embedding(ids)  # [N, T, D]

    def head(self, e):
        return self.fc(self.encoder(e + self.pos_embedding).mean(1))

    def forward(self, ids):
        return self.head(self.embed(ids))


class ImageModel(nn.Module):
    """A torchvision image classifier with the embed/head split of the text models (embed is the identity)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def embed(self, x):
        return x

    def head(self, x):
        return self.net(x)

    def forward(self, x):
        return self.net(x)


# ---------------------------------------------------------------------------------------------------------------
# The model list
# ---------------------------------------------------------------------------------------------------------------


def small_vit(layers):
    return VisionTransformer(image_size=32, patch_size=8, num_layers=layers, num_heads=2, hidden_dim=32,
                             mlp_dim=64, num_classes=CLASSES)


def small_convnext():
    setting = [CNBlockConfig(16, 32, 1), CNBlockConfig(32, None, 1)]
    return ConvNeXt(setting, stochastic_depth_prob=0.0, num_classes=CLASSES)


VIT_NOTE = ("torchvision.models.vision_transformer.VisionTransformer(image_size=32, patch_size=8, num_layers={}, "
            "num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10)")
TEXT_TRANSFORMER_NOTE = (
    "TextTransformer (in this script): Embedding({v}, 32) + position embedding parameter [1, {t}, 32] -> "
    "nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 2 heads, 64, activation='{a}', batch_first=True, "
    "norm_first=False), 2 layers) -> mean over tokens -> Linear(32, {c})")

# name -> (family, kind, builder, construction, bias_free)
MODELS = {
    "vit": ("vit", "image", lambda: ImageModel(small_vit(2)), VIT_NOTE.format(2), False),
    "vit_1block": ("vit", "image", lambda: ImageModel(small_vit(1)), VIT_NOTE.format(1), False),
    "vit_biasfree": ("vit", "image", lambda: ImageModel(small_vit(2)), VIT_NOTE.format(2), True),
    "convnext": (
        "convnext", "image", lambda: ImageModel(small_convnext()),
        "torchvision.models.convnext.ConvNeXt([CNBlockConfig(16, 32, 1), CNBlockConfig(32, None, 1)], "
        "stochastic_depth_prob=0, num_classes=10)", False),
    "text_cnn": (
        "text_cnn", "text", TextCNN,
        f"TextCNN (in this script): Embedding({VOCAB}, 16) -> transpose to [N, 16, T] -> Conv1d(16, 24, 3) -> ReLU "
        f"-> AdaptiveMaxPool1d(1) -> squeeze -> Linear(24, {TEXT_CLASSES})", False),
    "text_transformer": (
        "text_transformer", "text", lambda: TextTransformer("relu"),
        TEXT_TRANSFORMER_NOTE.format(v=VOCAB, t=SEQ_LEN, a="relu", c=TEXT_CLASSES), False),
    "text_transformer_gelu": (
        "text_transformer", "text", lambda: TextTransformer("gelu"),
        TEXT_TRANSFORMER_NOTE.format(v=VOCAB, t=SEQ_LEN, a="gelu", c=TEXT_CLASSES), False),
    "text_transformer_biasfree": (
        "text_transformer", "text", lambda: TextTransformer("relu"),
        TEXT_TRANSFORMER_NOTE.format(v=VOCAB, t=SEQ_LEN, a="relu", c=TEXT_CLASSES), True),
}

FULL_MODELS = {
    "vit_b_16": lambda: ImageModel(vit_b_16(weights=None)),
    "convnext_tiny": lambda: ImageModel(convnext_tiny(weights=None)),
}

# ---------------------------------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------------------------------


def model_seed(name):
    """A seed per model name, so that adding a model changes no other. A bias-free variant shares its base's."""
    return zlib.crc32(name.replace("_biasfree", "").encode()) & 0x7FFFFFFF


def randomise(model, gen):
    """Default init of every Linear/Conv, then biases, LayerNorm weights, class token, position embedding and
    layer scale drawn at random (see the header: torchvision leaves several of them zero or tiny)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Embedding)):
                m.reset_parameters()
            elif isinstance(m, nn.MultiheadAttention):  # nn.TransformerEncoder's layers start as copies of one
                m._reset_parameters()
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf.endswith("bias"):  # Linear, Conv, LayerNorm and MultiheadAttention in_proj_bias
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
            elif leaf in ("class_token", "pos_embedding"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
            elif leaf == "layer_scale":
                p.copy_(torch.empty(p.shape).uniform_(0.5, 1.0, generator=gen))
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.empty(m.weight.shape).uniform_(0.5, 1.5, generator=gen))


def zero_biases(model):
    """Every bias (Linear, Conv, LayerNorm, attention projections), the position embedding and the class token."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf.endswith("bias") or leaf in ("class_token", "pos_embedding"):
                p.zero_()


def build(name, builder, bias_free):
    torch.manual_seed(model_seed(name))
    model = builder()
    randomise(model, torch.Generator().manual_seed(model_seed(name) + 1))
    if bias_free:
        zero_biases(model)
    for p in model.parameters():
        p.requires_grad_(True)
    return model.eval()


def image_inputs(shape, batch=BATCH):
    gen = torch.Generator().manual_seed(INPUT_SEED)
    return torch.rand((batch, *shape), generator=gen, dtype=torch.float32)


def token_inputs():
    gen = torch.Generator().manual_seed(INPUT_SEED)
    return torch.randint(0, VOCAB, (BATCH, SEQ_LEN), generator=gen, dtype=torch.int64)


# ---------------------------------------------------------------------------------------------------------------
# Torch references
# ---------------------------------------------------------------------------------------------------------------


def logits_and_gradient(model, x):
    """float32 logits, float64 logits, the target class and the float64 gradient of that logit w.r.t. embed(x)."""
    with torch.no_grad():
        logits = model(x)
    model64 = copy.deepcopy(model).double()
    xin = x if x.dtype == torch.int64 else x.double()
    e = model64.embed(xin).double().detach().requires_grad_(True)
    logits64 = model64.head(e)
    target = int(logits64[0].argmax())
    (grad,) = torch.autograd.grad(logits64[:, target].sum(), e)
    return logits, logits64.detach(), target, grad


def f32_vs_f64(logits, logits64):
    """Per sample max |f32 - f64| / max |f64|, the worst sample: the noise of float32 itself."""
    return ((logits.double() - logits64).abs().amax(1) / logits64.abs().amax(1)).max().item()


# ---------------------------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------------------------

ELEM_TYPES = {v: k for k, v in onnx.TensorProto.DataType.items()}


def export_onnx(model, example, opset, dynamic):
    settings = {
        "opset_version": opset,
        "do_constant_folding": True,
        "input_names": ["input"],
        "output_names": ["output"],
        "dynamic_axes": {"input": {0: "N"}, "output": {0: "N"}} if dynamic else None,
    }
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, example, buf, **settings)  # grad enabled on purpose: see the header
    data = buf.getvalue()
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto)
    graph = proto.graph
    for n in graph.node:
        if n.domain not in ("", "ai.onnx"):
            raise RuntimeError(f"node {n.name}: op {n.domain}::{n.op_type} is not a standard ONNX op")
    op_types = dict(sorted(collections.Counter(n.op_type for n in graph.node).items()))
    node_ops = [n.op_type for n in graph.node]
    (inp,) = graph.input
    dims = [d.dim_param if d.dim_param else d.dim_value for d in inp.type.tensor_type.shape.dim]
    onnx_input = {"name": inp.name, "elem_type": ELEM_TYPES[inp.type.tensor_type.elem_type].lower(), "shape": dims}
    consumers = [n.op_type for n in graph.node if inp.name in n.input]
    return data, op_types, node_ops, onnx_input, consumers, settings


def remove_old_exports(outdir):
    """Delete what an earlier run wrote (so that a renamed model leaves no stale files), nothing else."""
    for file in os.listdir(outdir):
        if file.endswith((".onnx", ".onnx.gz", ".json", ".grad.f64")) or file in ("images.f32", "tokens.i32"):
            os.remove(os.path.join(outdir, file))


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def f64_bytes(t):
    return t.detach().contiguous().numpy().astype("<f8").tobytes()


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def export_small(outdir, only):
    os.makedirs(outdir, exist_ok=True)
    if not only:
        remove_old_exports(outdir)
    torch.set_num_threads(1)  # same logits bit for bit on every run
    images, tokens = image_inputs(IMAGE_SHAPE), token_inputs()
    write_bytes(os.path.join(outdir, "images.f32"), images.numpy().astype("<f4").tobytes())
    write_bytes(os.path.join(outdir, "tokens.i32"), tokens.numpy().astype("<i4").tobytes())
    versions = {"torch": torch.__version__, "torchvision": torchvision.__version__, "onnx": onnx.__version__}
    entries, models = [], []
    for name, (family, kind, builder, construction, bias_free) in MODELS.items():
        if only and name not in only:
            continue
        model = build(name, builder, bias_free)
        x = images if kind == "image" else tokens
        classes = CLASSES if kind == "image" else TEXT_CLASSES
        logits, logits64, target, grad = logits_and_gradient(model, x)
        if logits.shape != (BATCH, classes) or not torch.isfinite(logits).all():
            raise RuntimeError(f"{name}: bad logits {logits}")
        grad_file = f"{name}.grad.f64"
        blocks = [{"what": "d logit[target] / d input" if kind == "image" else
                   "d logit[target] / d embedding output (Gather result)",
                   "shape": list(grad.shape), "offset": 0}]
        data = f64_bytes(grad)
        if kind == "text":
            blocks.append({"what": "the same summed over the embedding dim: per-token gradient",
                           "shape": list(grad.shape[:2]), "offset": len(data)})
            data += f64_bytes(grad.sum(2))
        write_bytes(os.path.join(outdir, grad_file), data)
        gradient = {"file": grad_file, "dtype": "float64", "target": target, "blocks": blocks,
                    "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        params = sum(p.numel() for p in model.parameters())
        per_sample = list(x.shape[1:])
        inputs_file = "images.f32" if kind == "image" else "tokens.i32"
        models.append({"model": name, "family": family, "kind": kind, "gradient": grad_file, "target": target})
        for opset in OPSETS:
            for dynamic in (True, False):
                entry = f"{name}.opset{opset}" + ("" if dynamic else ".fixed")
                data, op_types, node_ops, onnx_input, consumers, settings = export_onnx(model, x, opset, dynamic)
                file, stored = f"{entry}.onnx", data
                packed = gzip.compress(data, compresslevel=9, mtime=0)
                if len(packed) < len(data):
                    file, stored = f"{entry}.onnx.gz", packed
                write_bytes(os.path.join(outdir, file), stored)
                meta = {
                    "name": entry,
                    "model": name,
                    "family": family,
                    "kind": kind,
                    "file": file,
                    "onnx_bytes": len(data),
                    "onnx_sha256": hashlib.sha256(data).hexdigest(),
                    "input": {**onnx_input, "per_sample_shape": per_sample,
                              "file_dtype": "float32" if kind == "image" else "int32"},
                    "classes": classes,
                    "opset": opset,
                    "dynamic": dynamic,
                    "batch": None if dynamic else BATCH,
                    "op_types": op_types,
                    "node_ops": node_ops,
                    "input_consumers": consumers,
                    "params": params,
                    "inputs": inputs_file,
                    "torch_logits": logits.tolist(),
                    "torch_logits_f64": logits64.tolist(),
                    "f32_vs_f64": f32_vs_f64(logits, logits64),
                    "gradient": gradient,
                    "bias_free": bias_free,
                    "export": {**settings, "training": "eval", "grad_enabled": True, "versions": versions},
                    "construction": construction + ("; every bias, LayerNorm bias, the position embedding and the "
                                                    "class token zeroed" if bias_free else ""),
                }
                write_json(os.path.join(outdir, f"{entry}.json"), meta)
                entries.append({
                    "name": entry, "model": name, "family": family, "kind": kind, "file": file,
                    "json": f"{entry}.json", "opset": opset, "dynamic": dynamic, "stored_bytes": len(stored),
                    "onnx_bytes": len(data),
                })
                print(f"{entry:40s} {params:>8d} params {len(data):>9d} B onnx {len(stored):>9d} B stored",
                      flush=True)
    if only:
        print("--only: index.json not written")
        return
    write_json(os.path.join(outdir, "index.json"), {
        "inputs": {
            "images.f32": {"dtype": "float32", "shape": [BATCH, *IMAGE_SHAPE], "range": [0, 1]},
            "tokens.i32": {"dtype": "int32", "shape": [BATCH, SEQ_LEN], "range": [0, VOCAB - 1]},
        },
        "input_seed": INPUT_SEED,
        "vocab": VOCAB,
        "models": models,
        "entries": entries,
    })


def export_full(outdir):
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)
    x = image_inputs((3, 224, 224), batch=1)
    write_bytes(os.path.join(outdir, "images224.f32"), x.numpy().astype("<f4").tobytes())
    for name, builder in FULL_MODELS.items():
        model = build(name, builder, False)
        with torch.no_grad():
            logits = model(x)
            logits64 = copy.deepcopy(model).double()(x.double())
        data, op_types, node_ops, onnx_input, consumers, settings = export_onnx(model, x, 17, True)
        write_bytes(os.path.join(outdir, f"{name}.onnx"), data)
        write_json(os.path.join(outdir, f"{name}.json"), {
            "name": name, "file": f"{name}.onnx", "onnx_bytes": len(data),
            "onnx_sha256": hashlib.sha256(data).hexdigest(), "input": onnx_input, "classes": 1000, "opset": 17,
            "dynamic": True, "op_types": op_types, "params": sum(p.numel() for p in model.parameters()),
            "inputs": "images224.f32", "torch_logits": logits.tolist(), "torch_logits_f64": logits64.tolist(),
            "f32_vs_f64": f32_vs_f64(logits, logits64),
            "construction": f"torchvision.models.{name}(weights=None), randomised as the script's header says",
        })
        print(f"{name:20s} {len(data):>11d} B onnx", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--small", nargs="?", const="test/fixtures/transformers", metavar="OUTDIR")
    mode.add_argument("--full", metavar="OUTDIR")
    parser.add_argument("--only", nargs="*", help="export only these model names (testing the script)")
    args = parser.parse_args()
    if args.only and set(args.only) - set(MODELS):
        sys.exit(f"unknown model(s): {', '.join(sorted(set(args.only) - set(MODELS)))}")
    if args.full:
        export_full(args.full)
    else:
        export_small(args.small, args.only)


if __name__ == "__main__":
    main()
