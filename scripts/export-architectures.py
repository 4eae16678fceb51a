#!/usr/bin/python3
"""Export torchvision classifiers (and one hand-written model) to ONNX, as test fixtures and bench models.

    /usr/bin/python3 scripts/export-architectures.py --small [OUTDIR]   # default OUTDIR: test/fixtures/arch
    /usr/bin/python3 scripts/export-architectures.py --full OUTDIR      # the real sizes; not committed

Needs Debian's python3-torch, python3-torchvision and python3-onnx (`apt-get install ...`); no network: every
model has random weights (weights=None).

--small: reduced-width instances of the torchvision families (10 classes, input 3x64x64) plus `preproc_zoo` (a
hand-written model with input normalisation and one of each common activation), for the test suite. Widths are
reduced with each family's own knobs where torchvision has them (width_mult, depth_mult, reduced_tail,
stages_out_channels, BlockParams, growth_rate); families with hard-coded widths (ResNet, GoogLeNet, SqueezeNet,
AlexNet, VGG, MNASNet) are built by their torchvision builder inside `channels_rewritten(...)`, which divides the
channel count of every Conv2d, BatchNorm2d and Linear they construct. The sizes are chosen to keep each file under
about 300 KB and the set under 4.5 MB (MNASNet is narrowed by 4, not 8: at 8 its one-channel bottleneck leaves the
bias-free variant all zero); the `construction` field of each NAME.json says exactly what was built.

--full: the 15 torchvision classifiers at their real sizes, 1000 classes, input 3x224x224.

Every model: random weights, batch-norm affine parameters and running statistics randomised (the running
statistics are first measured on random inputs, so that activations keep a sane scale through deep nets, then
perturbed), eval mode, exported with torch.onnx.export(opset_version=13, do_constant_folding=True), twice:
NAME.onnx with a dynamic batch axis and NAME.fixed.onnx with batch 2. Note that torch's exporter itself folds
every BatchNormalization that directly follows a Conv into the Conv (eval mode), so only the others (e.g.
DenseNet's pre-activation norms) remain BatchNormalization nodes; the op_types histogram shows what is left.

Written per export: NAME.onnx (or NAME.onnx.gz when gzip makes it smaller; --small only) and NAME.json:
{name, family, file, onnx_bytes, onnx_sha256, input_shape (per sample), classes, opset, dynamic, batch,
op_types, params, torch_logits (for the 2 samples of inputs.f32), torch_logits_f64 (the same model in float64),
f32_vs_f64 (per sample max |f32 - f64| / max |f64|, the worst sample: the noise of float32 itself), inputs, export
settings, construction}.
Plus inputs.f32 (float32 [2, C, H, W], uniform in [0, 1), seeded; shared by every model of the set) and
index.json listing every entry. Deterministic: fixed seeds, one thread, gzip without timestamps.
"""

import argparse
import collections
import contextlib
import copy
import gzip
import hashlib
import io
import json
import os
import sys
import warnings
import zlib

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models import (
    alexnet,
    densenet121,
    efficientnet_b0,
    googlenet,
    mnasnet0_5,
    mobilenet_v2,
    mobilenet_v3_large,
    mobilenet_v3_small,
    regnet_y_400mf,
    resnet18,
    resnet50,
    shufflenet_v2_x1_0,
    squeezenet1_1,
    vgg16,
    vgg16_bn,
)
from torchvision.models.densenet import DenseNet
from torchvision.models.efficientnet import _efficientnet, _efficientnet_conf
from torchvision.models.regnet import BlockParams, RegNet
from torchvision.models.shufflenetv2 import ShuffleNetV2
from torchvision.ops.misc import Conv2dNormActivation

OPSET = 13
INPUT_SEED = 20240611
BATCH = 2  # samples in inputs.f32, and the batch of the fixed-batch exports
CALIBRATION_BATCHES = 2
CALIBRATION_BATCH_SIZE = 8

# ---------------------------------------------------------------------------------------------------------------
# Narrow instances of families whose widths are hard-coded
# ---------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def channels_rewritten(divisor, keep):
    """While active, nn.Conv2d, nn.BatchNorm2d and nn.Linear divide every channel (feature) count they are given
    by `divisor` (rounded, at least 1), except the counts in `keep` (the 3 image channels, the class count).

    torchvision's classes look these names up in torch.nn when they construct a layer, so a builder called inside
    gives the same architecture with narrower layers. The same count always maps to the same narrow count, so the
    shapes still agree wherever the builder passes one layer's width to the next. Linear in-features are flattened
    C*H*W counts: they stay right as long as the divisor divides them exactly (checked).
    """
    real_conv, real_bn, real_linear = nn.Conv2d, nn.BatchNorm2d, nn.Linear

    def narrow(count, exact=False):
        if count in keep:
            return count
        if exact and count % divisor:
            raise ValueError(f"channels_rewritten: {count} is not a multiple of {divisor}")
        return max(1, round(count / divisor))

    class Conv2d(real_conv):
        def __init__(self, in_channels, out_channels, *args, groups=1, **kwargs):
            if len(args) > 4:
                raise ValueError("channels_rewritten: pass Conv2d's groups by keyword")
            if groups not in (1, in_channels):
                raise ValueError(f"channels_rewritten: grouped conv ({groups} groups) is not supported")
            narrow_in = narrow(in_channels)
            super().__init__(narrow_in, narrow(out_channels), *args, groups=1 if groups == 1 else narrow_in, **kwargs)

    class BatchNorm2d(real_bn):
        def __init__(self, num_features, *args, **kwargs):
            super().__init__(narrow(num_features), *args, **kwargs)

    class Linear(real_linear):
        def __init__(self, in_features, out_features, *args, **kwargs):
            super().__init__(narrow(in_features, exact=True), narrow(out_features), *args, **kwargs)

    nn.Conv2d, nn.BatchNorm2d, nn.Linear = Conv2d, BatchNorm2d, Linear
    try:
        yield
    finally:
        nn.Conv2d, nn.BatchNorm2d, nn.Linear = real_conv, real_bn, real_linear


def first_linear_index(seq):
    return next(i for i, m in enumerate(seq) if isinstance(m, nn.Linear))


def pool_to(model, size):
    """Set the model's adaptive average pool to `size` x `size` and resize the first classifier Linear to match.

    AlexNet and VGG pool their features to a fixed 6x6 / 7x7 grid; at 64x64 their feature maps are 1x1 / 2x2,
    and torch's ONNX exporter only exports an adaptive pool whose output size divides the input size.
    """
    channels = [m for m in model.features.modules() if isinstance(m, nn.Conv2d)][-1].out_channels
    model.avgpool = nn.AdaptiveAvgPool2d((size, size))
    i = first_linear_index(model.classifier)
    old = model.classifier[i]
    model.classifier[i] = nn.Linear(channels * size * size, old.out_features)
    return model


# ---------------------------------------------------------------------------------------------------------------
# Hand-written model: input normalisation and one of each activation
# ---------------------------------------------------------------------------------------------------------------


class PreprocZoo(nn.Module):
    """(x - mean) / std, then small convs each followed by a different activation, a squeeze-excitation gate,
    chunk + split + cat, a channel shuffle (view/transpose/view), a spatial mean and a Linear."""

    def __init__(self, classes=10, width=8):
        super().__init__()
        c = self.width = width
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        activations = [
            nn.ReLU6(),
            nn.LeakyReLU(0.1),
            nn.ELU(alpha=0.7),
            nn.SELU(),
            nn.Sigmoid(),
            nn.Hardsigmoid(),
            nn.Hardswish(),
            nn.Tanh(),
            nn.Softplus(),
            nn.GELU(),
            nn.SiLU(),
            nn.PReLU(num_parameters=c),
        ]
        # stride 2 on the first three convs: 64 -> 8 pixels
        self.convs = nn.ModuleList(
            nn.Conv2d(3 if i == 0 else c, c, 3, stride=2 if i < 3 else 1, padding=1) for i in range(len(activations))
        )
        self.activations = nn.ModuleList(activations)
        self.se_reduce = nn.Conv2d(c, c // 2, 1)
        self.se_expand = nn.Conv2d(c // 2, c, 1)
        self.slice_width = c // 4
        self.shuffle_groups = 2
        self.mix = nn.Conv2d(c + self.slice_width, c, 1)
        self.fc = nn.Linear(c, classes)
        with torch.no_grad():  # per-channel PReLU slopes, not all the default 0.25
            activations[-1].weight.copy_(torch.linspace(0.05, 0.5, c))

    def forward(self, x):
        x = (x - self.mean) / self.std
        for conv, act in zip(self.convs, self.activations):
            x = act(conv(x))
        gate = torch.sigmoid(self.se_expand(F.relu(self.se_reduce(F.adaptive_avg_pool2d(x, 1)))))
        x = x * gate
        a, b = torch.chunk(x, 2, dim=1)  # exported as Slice (bounds computed from Shape)
        first, _ = torch.split(x, [self.slice_width, self.width - self.slice_width], dim=1)  # exported as Split
        x = torch.cat([b, a, first], dim=1)
        n, c, h, w = x.size()
        g = self.shuffle_groups
        x = x.view(n, g, c // g, h, w).transpose(1, 2).contiguous().view(n, c, h, w)
        x = self.mix(x)
        return self.fc(x.mean((2, 3)))


# ---------------------------------------------------------------------------------------------------------------
# The model lists
# ---------------------------------------------------------------------------------------------------------------

SMALL_CLASSES = 10
SMALL_INPUT = (3, 64, 64)
FULL_CLASSES = 1000
FULL_INPUT = (3, 224, 224)


def _small_mobilenet_v2():
    m = mobilenet_v2(weights=None, num_classes=SMALL_CLASSES, width_mult=0.1)
    # the 1x1 head keeps 1280 channels at any width_mult < 1: 64 keeps the file small
    head = m.features[-1]
    m.features[-1] = Conv2dNormActivation(head[0].in_channels, 64, kernel_size=1, activation_layer=nn.ReLU6)
    m.classifier[1] = nn.Linear(64, SMALL_CLASSES)
    return m


def _small_efficientnet_b0():
    setting, last = _efficientnet_conf("efficientnet_b0", width_mult=0.1, depth_mult=0.5)
    return _efficientnet(setting, 0.2, last, None, False, num_classes=SMALL_CLASSES)


def _small_regnet_y():
    params = BlockParams(
        depths=[1, 1, 2, 2],
        widths=[8, 16, 24, 32],
        group_widths=[8, 8, 8, 8],
        bottleneck_multipliers=[1.0] * 4,
        strides=[2] * 4,
        se_ratio=0.25,
    )
    return RegNet(params, num_classes=SMALL_CLASSES, stem_width=8)


def _narrow(builder, divisor, **kwargs):
    with channels_rewritten(divisor, keep={3, SMALL_CLASSES}):
        return builder(weights=None, num_classes=SMALL_CLASSES, **kwargs)


# name -> (family, builder, construction note)
SMALL_MODELS = {
    "mobilenet_v2": (
        "mobilenet_v2",
        _small_mobilenet_v2,
        "mobilenet_v2(width_mult=0.1); head conv 1280 -> 64 channels (Conv2dNormActivation) and Linear(64, 10)",
    ),
    "mobilenet_v3_small": (
        "mobilenet_v3_small",
        lambda: mobilenet_v3_small(weights=None, num_classes=SMALL_CLASSES, width_mult=0.1),
        "mobilenet_v3_small(width_mult=0.1)",
    ),
    "mobilenet_v3_large": (
        "mobilenet_v3_large",
        lambda: mobilenet_v3_large(weights=None, num_classes=SMALL_CLASSES, width_mult=0.1, reduced_tail=True),
        "mobilenet_v3_large(width_mult=0.1, reduced_tail=True)",
    ),
    "efficientnet_b0": (
        "efficientnet_b0",
        _small_efficientnet_b0,
        "_efficientnet(_efficientnet_conf('efficientnet_b0', width_mult=0.1, depth_mult=0.5), dropout=0.2)",
    ),
    "regnet_y_400mf": (
        "regnet_y_400mf",
        _small_regnet_y,
        "RegNet(BlockParams(depths=[1,1,2,2], widths=[8,16,24,32], group_widths=[8]*4, "
        "bottleneck_multipliers=[1]*4, strides=[2]*4, se_ratio=0.25), stem_width=8)",
    ),
    "mnasnet0_5": (
        "mnasnet0_5",
        lambda: _narrow(mnasnet0_5, 4),
        "mnasnet0_5() with every channel count / 4 (channels_rewritten)",
    ),
    "shufflenet_v2_x1_0": (
        "shufflenet_v2_x1_0",
        lambda: ShuffleNetV2([4, 8, 4], [8, 16, 32, 64, 128], num_classes=SMALL_CLASSES),
        "ShuffleNetV2(stages_repeats=[4,8,4], stages_out_channels=[8,16,32,64,128])",
    ),
    "resnet18": (
        "resnet18",
        lambda: _narrow(resnet18, 16),
        "resnet18() with every channel count / 16 (channels_rewritten)",
    ),
    "resnet50": (
        "resnet50",
        lambda: _narrow(resnet50, 32),
        "resnet50() with every channel count / 32 (channels_rewritten)",
    ),
    "densenet121": (
        "densenet121",
        lambda: DenseNet(growth_rate=2, block_config=(6, 12, 24, 16), num_init_features=8, bn_size=4,
                         num_classes=SMALL_CLASSES),
        "DenseNet(growth_rate=2, block_config=(6,12,24,16), num_init_features=8, bn_size=4)",
    ),
    "googlenet": (
        "googlenet",
        lambda: _narrow(googlenet, 16, aux_logits=False, init_weights=True),
        "googlenet(aux_logits=False, init_weights=True) with every channel count / 16 (channels_rewritten)",
    ),
    "squeezenet1_1": (
        "squeezenet1_1",
        lambda: _narrow(squeezenet1_1, 8),
        "squeezenet1_1() with every channel count / 8 (channels_rewritten)",
    ),
    "alexnet": (
        "alexnet",
        lambda: pool_to(_narrow(alexnet, 32), 1),
        "alexnet() with every channel count / 32 (channels_rewritten); avgpool 6x6 -> 1x1 (the 64x64 feature "
        "map is 1x1) and the first Linear resized to match",
    ),
    "vgg16": (
        "vgg16",
        lambda: pool_to(_narrow(vgg16, 32), 2),
        "vgg16() with every channel count / 32 (channels_rewritten); avgpool 7x7 -> 2x2 (the 64x64 feature "
        "map is 2x2) and the first Linear resized to match",
    ),
    "vgg16_bn": (
        "vgg16_bn",
        lambda: pool_to(_narrow(vgg16_bn, 32), 2),
        "vgg16_bn() with every channel count / 32 (channels_rewritten); avgpool 7x7 -> 2x2 (the 64x64 feature "
        "map is 2x2) and the first Linear resized to match",
    ),
    "preproc_zoo": ("preproc_zoo", lambda: PreprocZoo(classes=SMALL_CLASSES), "PreprocZoo (in this script)"),
}

FULL_MODELS = {
    "alexnet": lambda: alexnet(weights=None),
    "vgg16": lambda: vgg16(weights=None),
    "vgg16_bn": lambda: vgg16_bn(weights=None),
    "resnet18": lambda: resnet18(weights=None),
    "resnet50": lambda: resnet50(weights=None),
    "densenet121": lambda: densenet121(weights=None),
    "googlenet": lambda: googlenet(weights=None, aux_logits=False, init_weights=True),
    "squeezenet1_1": lambda: squeezenet1_1(weights=None),
    "mobilenet_v2": lambda: mobilenet_v2(weights=None),
    "mobilenet_v3_small": lambda: mobilenet_v3_small(weights=None),
    "mobilenet_v3_large": lambda: mobilenet_v3_large(weights=None),
    "efficientnet_b0": lambda: efficientnet_b0(weights=None),
    "regnet_y_400mf": lambda: regnet_y_400mf(weights=None),
    "mnasnet0_5": lambda: mnasnet0_5(weights=None),
    "shufflenet_v2_x1_0": lambda: shufflenet_v2_x1_0(weights=None),
}


# ---------------------------------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------------------------------


def model_seed(name):
    """A seed per model name, so that adding a model changes no other."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def randomise_batchnorm(model, input_shape, gen):
    """Random BN affine parameters and running statistics, with activations of a sane scale.

    The running statistics are measured on random inputs (BN layers alone in train mode, cumulative average),
    then perturbed: mean += 0.2 std N(0, 1), var *= exp(U(-0.5, 0.5)). Folding BN then really changes the weights.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(torch.empty_like(bn.weight).uniform_(0.5, 1.5, generator=gen))
            bn.bias.copy_(torch.randn(bn.bias.shape, generator=gen) * 0.1)
            bn.reset_running_stats()
            bn.momentum = None
        model.eval()
        for bn in bns:
            bn.train()
        for _ in range(CALIBRATION_BATCHES if bns else 0):
            model(torch.rand((CALIBRATION_BATCH_SIZE, *input_shape), generator=gen))
        model.eval()
        for bn in bns:
            std = bn.running_var.sqrt()
            bn.running_mean.add_(0.2 * std * torch.randn(std.shape, generator=gen))
            bn.running_var.mul_(torch.exp(torch.empty_like(std).uniform_(-0.5, 0.5, generator=gen)))
    return len(bns)


def build(builder, name, input_shape):
    torch.manual_seed(model_seed(name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # googlenet's init_weights notice
        model = builder()
    gen = torch.Generator().manual_seed(model_seed(name) + 1)
    randomise_batchnorm(model, input_shape, gen)
    return model.eval()


def seeded_inputs(input_shape):
    gen = torch.Generator().manual_seed(INPUT_SEED)
    return torch.rand((BATCH, *input_shape), generator=gen, dtype=torch.float32)


# ---------------------------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------------------------


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
        torch.onnx.export(model, example, buf, **settings)
    data = buf.getvalue()
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto)
    op_types = dict(sorted(collections.Counter(n.op_type for n in proto.graph.node).items()))
    return data, op_types, settings


def remove_old_exports(outdir):
    """Delete what an earlier run wrote (so that a renamed model leaves no stale files), nothing else."""
    for file in os.listdir(outdir):
        if file.endswith((".onnx", ".onnx.gz", ".json")) or file == "inputs.f32":
            os.remove(os.path.join(outdir, file))


def export_set(models, outdir, input_shape, classes, compress, complete=True):
    os.makedirs(outdir, exist_ok=True)
    if complete:
        remove_old_exports(outdir)
    torch.set_num_threads(1)  # same logits bit for bit on every run
    x = seeded_inputs(input_shape)
    with open(os.path.join(outdir, "inputs.f32"), "wb") as f:
        f.write(x.numpy().astype("<f4").tobytes())
    versions = {"torch": torch.__version__, "torchvision": torchvision.__version__, "onnx": onnx.__version__}
    index = []
    for name, (family, builder, construction) in models.items():
        model = build(builder, name, input_shape)
        with torch.no_grad():
            logits = model(x)
            # the same model in float64: how far float32 rounding alone moves these logits
            logits64 = copy.deepcopy(model).double()(x.double())
        f32_vs_f64 = ((logits.double() - logits64).abs().amax(1) / logits64.abs().amax(1)).max().item()
        if logits.shape != (BATCH, classes):
            raise RuntimeError(f"{name}: logits shape {tuple(logits.shape)}, expected {(BATCH, classes)}")
        if not torch.isfinite(logits).all():
            raise RuntimeError(f"{name}: non-finite logits")
        params = sum(p.numel() for p in model.parameters())
        exports = [(name, OPSET, True), (f"{name}.fixed", OPSET, False)]
        if family == "preproc_zoo":  # HardSwish is an ONNX op from opset 14 on
            exports = [(name, OPSET, True), (f"{name}.opset14", 14, True)]
        for entry, opset, dynamic in exports:
            data, op_types, settings = export_onnx(model, x, opset, dynamic)
            file = f"{entry}.onnx"
            stored = data
            if compress:
                packed = gzip.compress(data, compresslevel=9, mtime=0)
                if len(packed) < len(data):
                    file, stored = f"{entry}.onnx.gz", packed
            with open(os.path.join(outdir, file), "wb") as f:
                f.write(stored)
            meta = {
                "name": entry,
                "family": family,
                "file": file,
                "onnx_bytes": len(data),
                "onnx_sha256": hashlib.sha256(data).hexdigest(),
                "input_shape": list(input_shape),
                "classes": classes,
                "opset": opset,
                "dynamic": dynamic,
                "batch": None if dynamic else BATCH,
                "op_types": op_types,
                "params": params,
                "inputs": "inputs.f32",
                "torch_logits": logits.tolist(),
                "torch_logits_f64": logits64.tolist(),
                "f32_vs_f64": f32_vs_f64,
                "export": {**settings, "training": "eval", "versions": versions},
                "construction": construction,
            }
            with open(os.path.join(outdir, f"{entry}.json"), "w") as f:
                json.dump(meta, f, indent=1)
                f.write("\n")
            index.append({
                "name": entry, "family": family, "file": file, "json": f"{entry}.json", "opset": opset,
                "dynamic": dynamic, "stored_bytes": len(stored), "onnx_bytes": len(data),
            })
            print(f"{entry:32s} {params:>10d} params {len(data):>11d} B onnx {len(stored):>11d} B stored", flush=True)
    if not complete:
        print("--only: index.json not written")
        return
    with open(os.path.join(outdir, "index.json"), "w") as f:
        json.dump({"input_shape": list(input_shape), "classes": classes, "inputs": "inputs.f32",
                   "input_seed": INPUT_SEED, "entries": index}, f, indent=1)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--small", nargs="?", const="test/fixtures/arch", metavar="OUTDIR")
    mode.add_argument("--full", metavar="OUTDIR")
    parser.add_argument("--only", nargs="*", help="export only these model names (testing the script)")
    args = parser.parse_args()
    if args.small is not None:
        models, outdir, shape, classes, compress = SMALL_MODELS, args.small, SMALL_INPUT, SMALL_CLASSES, True
    else:
        full = {name: (name, builder, f"torchvision.models.{name}, real size") for name, builder in FULL_MODELS.items()}
        models, outdir, shape, classes, compress = full, args.full, FULL_INPUT, FULL_CLASSES, False
    if args.only:
        unknown = set(args.only) - set(models)
        if unknown:
            sys.exit(f"unknown model(s): {', '.join(sorted(unknown))}")
        models = {k: v for k, v in models.items() if k in args.only}
    export_set(models, outdir, shape, classes, compress, complete=not args.only)


if __name__ == "__main__":
    main()
