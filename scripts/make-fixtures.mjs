#!/usr/bin/env node
// Regenerates test/fixtures/ from the Zennit LRP test vectors (default ../shared/testdata).
//
//   node scripts/make-fixtures.mjs [path/to/testdata]
//
// The source path is resolved against the repository root. The output is deterministic: the same source gives
// byte-identical fixtures (gzip level 9 with mtime 0, sorted listings, no timestamps). Plain Node >= 20, no deps.
//
// Storage (also described in the generated test/fixtures/README.md):
//   * model.json and tfjs/model.json are copied byte for byte.
//   * Everything else is gzip (zlib level 9) of the source bytes, stored as `<name>.gz`: *.f32, model.onnx,
//     tfjs/*.bin, and cases.json (1.1 MB of pretty JSON, 10x smaller gzipped).
//   * params/*.f32 are byte-identical to the initializers inside model.onnx, so for the models that have a
//     model.onnx they are not stored twice: MANIFEST.json gives each one's byte offset in model.onnx, and
//     test/helpers/fixtures.ts slices them out (and writes real params/ files in modelDir()). This also keeps the
//     ~80 tiny parameter files (bias, BatchNorm vectors) from costing a 4 KB disk block each.
//   * Byte-identical files of one model (lrp_alpha1_beta0 == lrp_zplus, the MLP composites == lrp_epsilon_1e-6, the
//     upper layers of a composite == those of lrp_epsilon_1e-6, ...) are stored once; MANIFEST.json points the
//     others to the stored copy (`same_bytes_as`).
//   * Only a selection of the onehot-start relevances, float64 references and per-layer relevances is kept (the
//     constants below). MANIFEST.json lists every kept and every left-out source file, with the reason.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.resolve(REPO, process.argv[2] ?? '../shared/testdata');
const OUT = path.join(REPO, 'test', 'fixtures');

// ---------------------------------------------------------------------------------------------------------------
// Selection (the `__logit` input relevance of EVERY case is always kept)
// ---------------------------------------------------------------------------------------------------------------

/** Configs whose `__onehot` input relevance is kept, for every model. */
const ONEHOT_CONFIGS = ['lrp_epsilon_1e-6', 'lrp_gamma_0.25'];
/** Extra onehot configs, per model. */
const ONEHOT_EXTRA = { cnn_bn: ['composite_epsilon_plus_no_canonizer'] };

/**
 * Which float64 references (`*.f64ref.f32`, cases with `relevance_f64`) of kept relevances are kept:
 * 'all', or 'ill_conditioned' (only cases with `ill_conditioned: true`; the others differ from float32 by less
 * than 1e-4 of the per-sample max |R|, so the float32 file serves at the usual tolerance).
 */
const F64REF = 'ill_conditioned';

/** Configs whose per-layer relevances (layers/<config>/) are kept. `*` = every config that has them. */
const LAYER_CONFIGS = {
  mlp: ['lrp_epsilon_1e-6'],
  mlp_deep: ['lrp_epsilon_1e-6'],
  cnn: ['lrp_epsilon_1e-6', 'composite_epsilon_gamma_box'],
  cnn_bn: ['lrp_epsilon_1e-6', 'composite_epsilon_gamma_box'],
  cnn_strided: ['lrp_epsilon_1e-6', 'composite_epsilon_gamma_box'],
  resnet_mini: ['lrp_epsilon_1e-6'],
  concat_net: ['lrp_epsilon_1e-6', 'composite_epsilon_gamma_box'],
  tfjs_cnn: ['lrp_epsilon_1e-6', 'composite_epsilon_gamma_box'],
  tfjs_mlp: ['lrp_epsilon_1e-6', 'lrp_gamma_0.25', 'lrp_alpha2_beta1'],
  tfjs_residual: ['lrp_epsilon_1e-6', 'composite_epsilon_gamma_box'],
};

const REASON_ONEHOT =
  'onehot start, config not in the onehot selection: every rule is linear in the start relevance, so this equals ' +
  'the kept __logit relevance divided by start_values[n], up to rounding';
const REASON_ONEHOT_F64 = 'float64 reference of an onehot case whose float32 relevance is not kept';
const REASON_F64_WELL =
  'float64 reference of a case that is not ill_conditioned (f32_vs_f64 < 1e-4 of max|R|): the kept float32 ' +
  'relevance serves at the usual tolerance';
const REASON_LAYERS = 'per-layer relevances of a config not in the layer selection (size budget)';

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const gzip = (buf) => zlib.gzipSync(buf, { level: 9 });
const posix = (p) => p.split(path.sep).join('/');

function listFiles(dir, base = dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else if (e.isFile()) out.push(posix(path.relative(base, p)));
  }
  return out.sort();
}

/**
 * Processing order: lrp_* relevance/layer files first, so that they (not a composite or alias config) hold the
 * stored copy of byte-identical files; alphabetical within each group.
 */
function canonicalOrder(files) {
  const rank = (f) => (/^(relevance|layers)\/lrp_/.test(f) ? 0 : 1);
  return [...files].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Every {file, shape} object anywhere in a JSON document -> Map(file -> shape). */
function collectShapes(node, map = new Map()) {
  if (Array.isArray(node)) for (const x of node) collectShapes(x, map);
  else if (node && typeof node === 'object') {
    if (typeof node.file === 'string' && Array.isArray(node.shape)) map.set(node.file, node.shape);
    for (const v of Object.values(node)) collectShapes(v, map);
  }
  return map;
}

/** Recursively sorted object keys (arrays keep their order). */
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k]);
    return o;
  }
  return v;
}

/**
 * Compact but readable JSON: an object or array that holds only primitives (or arrays of primitives) goes on one
 * line, except long lists of strings, which get one item per line.
 */
function formatJson(v, ind = '') {
  const isPrim = (x) => x === null || typeof x !== 'object';
  const flat = (x) => isPrim(x) || (Array.isArray(x) && x.every(isPrim));
  if (isPrim(v)) return JSON.stringify(v);
  const inner = ind + ' ';
  if (Array.isArray(v)) {
    const longStrings = v.some((x) => typeof x === 'string') && JSON.stringify(v).length > 100;
    if (v.every(isPrim) && !longStrings) return JSON.stringify(v);
    return '[\n' + v.map((x) => inner + formatJson(x, inner)).join(',\n') + '\n' + ind + ']';
  }
  const entries = Object.entries(v);
  if (entries.length === 0) return '{}';
  if (entries.every(([, x]) => flat(x)) && JSON.stringify(v).length <= 400) return JSON.stringify(v);
  return '{\n' + entries.map(([k, x]) => inner + JSON.stringify(k) + ': ' + formatJson(x, inner)).join(',\n') + '\n' + ind + '}';
}

function writeFile(rel, buf) {
  const p = path.join(OUT, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, buf);
  return fs.statSync(p).size;
}

/**
 * Where each params tensor sits inside model.onnx: every params file must occur exactly once, verbatim (ONNX
 * initializers with raw_data), and the ranges must not overlap. Returns Map(params file -> byte offset).
 */
function locateParams(onnx, modelDir, paramFiles) {
  const found = [];
  for (const rel of paramFiles) {
    const b = fs.readFileSync(path.join(modelDir, rel));
    const at = onnx.indexOf(b);
    if (at < 0) throw new Error(`${modelDir}: ${rel} not found verbatim in model.onnx`);
    if (onnx.indexOf(b, at + 1) >= 0) throw new Error(`${modelDir}: ${rel} occurs more than once in model.onnx`);
    found.push({ rel, at, end: at + b.length });
  }
  found.sort((a, b) => a.at - b.at);
  for (let i = 1; i < found.length; i++) {
    if (found[i].at < found[i - 1].end) throw new Error(`${modelDir}: overlapping params in model.onnx`);
  }
  return new Map(found.map((f) => [f.rel, f.at]));
}

// ---------------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------------

if (!fs.existsSync(path.join(SRC, 'README.md'))) {
  console.error(`make-fixtures: no test data at ${SRC} (expected README.md and one folder per model)`);
  process.exit(1);
}

// Remove everything generated before (the whole folder is generated, except arch/: the architecture fixtures of
// scripts/export-architectures.py).
fs.mkdirSync(OUT, { recursive: true });
for (const e of fs.readdirSync(OUT)) {
  if (e !== 'arch') fs.rmSync(path.join(OUT, e), { recursive: true, force: true });
}

const models = fs
  .readdirSync(SRC, { withFileTypes: true })
  .filter((e) => e.isDirectory() && fs.existsSync(path.join(SRC, e.name, 'cases.json')))
  .map((e) => e.name)
  .sort();

const manifest = {
  format: 1,
  generator: 'node scripts/make-fixtures.mjs [path/to/testdata]',
  source: { path: '../shared/testdata', readme_sha256: sha256(fs.readFileSync(path.join(SRC, 'README.md'))) },
  storage: {
    kept: 'kept[<source path>] = {stored: file under <model>/ that holds it, bytes and sha256 of the SOURCE file, shape (float32 files), stored_bytes (size of the stored file; 0 for an entry held by another entry\'s file: same_bytes_as, in)}',
    gz: 'a stored name ending in .gz is gzip (level 9) of the source bytes',
    json: 'model.json and tfjs/model.json are stored unchanged',
    in: 'params/*.f32 of the models with a model.onnx are not stored separately: they are the bytes [offset, offset + bytes) of model.onnx (its initializers)',
    same_bytes_as: 'byte-identical files of a model are stored once; the alias entry names the stored copy',
  },
  selection: { onehot_configs: ONEHOT_CONFIGS, onehot_extra: ONEHOT_EXTRA, f64ref: F64REF, layer_configs: LAYER_CONFIGS },
  models: {},
  totals: {},
};

const totals = { source_bytes: 0, kept_source_bytes: 0, stored_bytes: 0, stored_files: 0, kept_files: 0, left_out_files: 0 };

for (const model of models) {
  const dir = path.join(SRC, model);
  const files = listFiles(dir);
  const cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'));
  const shapes = collectShapes(cases);
  if (fs.existsSync(path.join(dir, 'model.json'))) {
    collectShapes(JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')), shapes);
  }

  // --- which relevance / layer files to keep
  const relDecision = new Map(); // relevance file -> null (keep) | reason
  const onehotKeep = new Set([...ONEHOT_CONFIGS, ...(ONEHOT_EXTRA[model] ?? [])]);
  const caseByName = new Map(cases.cases.map((c) => [c.name, c]));
  const layerSel = LAYER_CONFIGS[model] ?? [];
  const layerDirsKept = new Set();
  const layerSets = {}; // case name -> {source, present}
  for (const c of cases.cases) {
    const keep = c.start === 'logit' || onehotKeep.has(c.config);
    relDecision.set(c.relevance.file, keep ? null : REASON_ONEHOT);
    if (c.relevance_f64) {
      const reason = !keep ? REASON_ONEHOT_F64 : F64REF === 'all' || c.ill_conditioned ? null : REASON_F64_WELL;
      relDecision.set(c.relevance_f64.file, reason);
    }
    if (c.layer_relevance) {
      const present = layerSel.includes('*') || layerSel.includes(c.config);
      if (present) for (const l of c.layer_relevance) layerDirsKept.add(path.posix.dirname(l.file));
      layerSets[c.name] = { source: c.name, present };
    }
  }
  for (const c of cases.cases) {
    if (!c.layer_relevance_same_as) continue;
    const target = caseByName.get(c.layer_relevance_same_as);
    if (!target?.layer_relevance) throw new Error(`${model}/${c.name}: dangling layer_relevance_same_as`);
    layerSets[c.name] = { source: target.name, present: layerSets[target.name].present };
  }

  const kept = {};
  const leftOut = {};
  const storedBySha = new Map();
  // params/*.f32 are stored inside model.onnx.gz when the model has one (see locateParams).
  const onnxPath = path.join(dir, 'model.onnx');
  const paramOffsets = fs.existsSync(onnxPath)
    ? locateParams(fs.readFileSync(onnxPath), dir, files.filter((f) => f.startsWith('params/')))
    : new Map();
  let modelSource = 0;
  let modelStored = 0;
  let modelStoredFiles = 0;

  for (const rel of canonicalOrder(files)) {
    const buf = fs.readFileSync(path.join(dir, rel));
    modelSource += buf.length;
    const hash = sha256(buf);

    let reason = null;
    if (rel.startsWith('relevance/')) {
      if (!relDecision.has(rel)) throw new Error(`${model}/${rel}: not referenced by cases.json`);
      reason = relDecision.get(rel);
    } else if (rel.startsWith('layers/')) {
      if (!layerDirsKept.has(path.posix.dirname(rel))) reason = REASON_LAYERS;
    }
    if (reason) {
      (leftOut[reason] ??= []).push(rel);
      continue;
    }

    const entry = { bytes: buf.length, sha256: hash };
    if (shapes.has(rel)) {
      entry.shape = shapes.get(rel);
      if (entry.shape.reduce((a, b) => a * b, 1) * 4 !== buf.length) {
        throw new Error(`${model}/${rel}: ${buf.length} bytes but shape [${entry.shape}]`);
      }
    } else if (rel.endsWith('.f32')) {
      throw new Error(`${model}/${rel}: no shape in model.json/cases.json`);
    }

    let storedBuf;
    if (rel === 'model.json' || rel === 'tfjs/model.json') {
      entry.stored = rel;
      storedBuf = buf;
    } else if (paramOffsets.has(rel)) {
      kept[rel] = { ...entry, stored: 'model.onnx.gz', offset: paramOffsets.get(rel), stored_bytes: 0, in: 'model.onnx' };
      totals.kept_source_bytes += buf.length;
      continue;
    } else if (rel === 'cases.json' || rel === 'model.onnx' || rel.endsWith('.f32') || rel.endsWith('.bin')) {
      if (storedBySha.has(hash)) {
        const first = storedBySha.get(hash);
        kept[rel] = { ...entry, stored: kept[first].stored, stored_bytes: 0, same_bytes_as: first };
        totals.kept_source_bytes += buf.length;
        continue;
      }
      storedBySha.set(hash, rel);
      entry.stored = rel + '.gz';
      storedBuf = gzip(buf);
      if (!zlib.gunzipSync(storedBuf).equals(buf)) throw new Error(`${model}/${rel}: gzip round trip failed`);
    } else {
      throw new Error(`${model}/${rel}: unrecognised file`);
    }
    entry.stored_bytes = writeFile(path.join(model, entry.stored), storedBuf);
    kept[rel] = entry;
    modelStored += entry.stored_bytes;
    modelStoredFiles++;
    totals.kept_source_bytes += buf.length;
  }

  // Every logit relevance kept; every present layer set complete.
  for (const c of cases.cases) {
    if (c.start === 'logit' && !kept[c.relevance.file]) throw new Error(`${model}/${c.name}: logit relevance missing`);
  }
  for (const [name, ls] of Object.entries(layerSets)) {
    if (!ls.present) continue;
    for (const l of caseByName.get(ls.source).layer_relevance) {
      if (!kept[l.file]) throw new Error(`${model}/${name}: layer file ${l.file} missing`);
    }
  }
  for (const list of Object.values(leftOut)) list.sort();

  const nLeft = Object.values(leftOut).reduce((a, l) => a + l.length, 0);
  manifest.models[model] = {
    kept,
    left_out: leftOut,
    layer_sets: layerSets,
    counts: { source_files: files.length, kept_files: Object.keys(kept).length, stored_files: modelStoredFiles, left_out_files: nLeft },
    source_bytes: modelSource,
    stored_bytes: modelStored,
  };
  totals.source_bytes += modelSource;
  totals.stored_bytes += modelStored;
  totals.stored_files += modelStoredFiles;
  totals.kept_files += Object.keys(kept).length;
  totals.left_out_files += nLeft;
}
manifest.totals = totals;

writeFile('MANIFEST.json', formatJson(sortKeys(manifest)) + '\n');

// ---------------------------------------------------------------------------------------------------------------
// README
// ---------------------------------------------------------------------------------------------------------------

const mb = (n) => (n / 2 ** 20).toFixed(1) + ' MiB';
const code = (xs) => xs.map((x) => '`' + x + '`').join(', ');
const layerRows = models
  .map((m) => {
    const sets = Object.entries(manifest.models[m].layer_sets)
      .filter(([name, ls]) => ls.present && ls.source === name)
      .map(([name]) => name.replace(/__logit$/, ''));
    return `| ${m} | ${code(sets) || '—'} |`;
  })
  .join('\n');

const readme = `# Test fixtures (generated, do not edit)

A size-reduced copy of the Zennit LRP test vectors (\`../shared/testdata\`; its README describes the data, the rule
formulas and the tolerances), so that the tests run without \`/work/shared\`. Regenerate with

\`\`\`
node scripts/make-fixtures.mjs [path/to/testdata]     # default: ../shared/testdata
\`\`\`

The output is deterministic. Tests read the data through \`test/helpers/fixtures.ts\`, which hides the storage
format. \`MANIFEST.json\` lists every kept source file (stored name, size, sha256, shape) and every left-out one,
grouped by reason; \`test/fixtures.test.ts\` checks that it agrees with the files.

## Storage

* \`model.json\`, \`tfjs/model.json\`: unchanged.
* Everything else is gzip (level 9) of the source file, stored as \`<name>.gz\`: \`*.f32\`, \`model.onnx\`,
  \`tfjs/*.bin\`, \`cases.json\` (1.1 MB of JSON; read it with \`zcat\`).
* \`params/*.f32\` are not stored separately for the models that have a \`model.onnx\`: they are byte-identical to its
  initializers, and \`MANIFEST.json\` (\`in: "model.onnx"\`, \`offset\`) says where. The helper slices them out, and
  \`modelDir()\` writes real \`params/\` files. So \`model.onnx\` is kept for every model, \`mlp_deep\` (3.2 MB)
  included, at no extra cost.
* Byte-identical files of a model are stored once (\`same_bytes_as\` in \`MANIFEST.json\`), e.g. \`lrp_zplus\` =
  \`lrp_alpha1_beta0\`, the MLP composites = \`lrp_epsilon_1e-6\`.

## Selection

Kept for every model: \`model.json\`, \`params/\`, \`model.onnx\`, \`tfjs/\`, \`inputs\`, \`logits\`, \`predict\`,
\`cases.json\`, and the input relevance of **every \`__logit\` case** (all LRP configs, \`gradient\`,
\`gradient_x_input\`).

Left out, to stay near 10 MB:

* Onehot-start relevances, except for ${code(ONEHOT_CONFIGS)}${Object.entries(ONEHOT_EXTRA)
  .map(([m, cs]) => ` and ${code(cs)} (${m})`)
  .join('')}.
  The others equal the logit relevance divided by \`start_values\`, up to rounding (checked for the kept ones).
* Float64 references (\`*.f64ref.f32\`): ${
  F64REF === 'all'
    ? 'all kept for kept relevances.'
    : 'kept only for `ill_conditioned` cases.\n  The other cases with `relevance_f64` differ from float32 by less than 1e-4 of max|R|.'
}
* Per-layer relevances (\`layers/\`), except these sets. Cases with \`layer_relevance_same_as\` resolve to them;
  \`MANIFEST.json\` \`models.<m>.layer_sets\` says for every case whether its layer set is present.

| model | layer sets kept |
|---|---|
${layerRows}

Size: ${mb(totals.stored_bytes)} in ${totals.stored_files} stored files (plus MANIFEST.json), for
${mb(totals.kept_source_bytes)} of kept source data; the source is ${mb(totals.source_bytes)}.
`;
writeFile('README.md', readme);

console.log(
  `make-fixtures: ${models.length} models; ${totals.kept_files} source files kept (${totals.stored_files} stored), ` +
    `${totals.left_out_files} left out; stored ${mb(totals.stored_bytes)} (source ${mb(totals.source_bytes)})`,
);
