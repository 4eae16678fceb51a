/**
 * Mutations of a seed model, all driven by one seeded PRNG:
 *
 * - binary, on any file: bit flips, truncation, random bytes, byte ranges moved, zeroed or
 *   appended;
 * - float injection into weights (TF.js shards, lrp parameter files, ONNX initializers): NaN,
 *   ±Infinity, ±3.4e38, ±1e37 and other extremes at random positions;
 * - ONNX structure (decoded with onnx-proto, re-encoded): integer attributes, input and
 *   initializer dims set to huge or wrapping integers (2^31, 2^32, 2^32+1, 2^53, -1, 0),
 *   nodes deleted, duplicated, rewired (also into cycles) or given other op types, data types;
 * - JSON structure (TF.js model.json, lrp model.json): keys deleted, values of the wrong type,
 *   huge or wrapping integers, ±1e999 (Infinity once parsed), 10 MB strings, unknown layer
 *   classes, duplicated or swapped layers, cyclic inbound nodes / inputs.
 *
 * `mutateCase(seed, r)` returns { files, description }: a fresh copy of the seed's files with
 * one to three mutations applied, and one line per mutation.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const SPECIAL_INTS = [0, -1, 1, 2, 3, 7, 65536, 1e6, 1e9, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, -(2 ** 31), -(2 ** 32)];
export const SPECIAL_FLOATS = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e37, -1e37, 1.77e37, 1e30, -1e30, 1e20, 1e-45, -1e-38, 0, -0];
const WRONG_VALUES = () => [null, true, false, 'x', '', [], {}, [1, 2, 3], [[1]], -1, 1.5, 0, { class_name: 'X', config: {} }, '1e999'];
const CLASS_NAMES = ['Conv3D', 'Lambda', 'LSTM', 'Foo', 'InputLayer', 'Dense', 'Conv2D', 'Add', 'Concatenate', 'Sequential', 'Model', 'Flatten', 'MaxPooling2D', 'BatchNormalization', 'Activation', 'ZeroPadding2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Softmax', 'Dropout'];
const LRP_TYPES = ['linear', 'conv2d', 'relu', 'maxpool2d', 'avgpool2d', 'adaptiveavgpool2d', 'flatten', 'batchnorm2d', 'batchnorm1d', 'add', 'concat', 'dropout', 'identity', 'softmax', 'conv3d', 'foo', ''];
const ONNX_OPS = ['Conv', 'Relu', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Gemm', 'MatMul', 'Add', 'Flatten', 'Reshape', 'Concat', 'BatchNormalization', 'Identity', 'Dropout', 'Softmax', 'Pad', 'Sigmoid', 'LSTM', 'Foo', ''];

// ---- binary ---------------------------------------------------------------------------------

function binary(r, bytes) {
  const kind = r.weighted({ bitflip: 4, truncate: 2, 'random-bytes': 2, 'move-range': 2, 'zero-range': 1, append: 1 });
  const n = bytes.length;
  let out = bytes.slice();
  let what;
  switch (kind) {
    case 'bitflip': {
      const flips = 1 + r.int(r.chance(0.7) ? 4 : 32);
      for (let k = 0; k < flips && n > 0; k++) out[r.int(n)] ^= 1 << r.int(8);
      what = `${flips} bit flip(s)`;
      break;
    }
    case 'truncate': {
      const len = r.chance(0.3) ? r.int(Math.min(n, 64)) : r.int(n);
      out = out.slice(0, len);
      what = `truncated to ${len} of ${n} bytes`;
      break;
    }
    case 'random-bytes': {
      const k = 1 + r.int(16);
      const at = r.int(Math.max(n - k, 1));
      for (let i = 0; i < k && at + i < n; i++) out[at + i] = r.int(256);
      what = `${k} random byte(s) at ${at}`;
      break;
    }
    case 'move-range': {
      const len = 1 + r.int(Math.min(n, 256));
      const from = r.int(Math.max(n - len, 1));
      const to = r.int(Math.max(n - len, 1));
      if (r.chance(0.5)) {
        out.copyWithin(to, from, from + len);
        what = `bytes ${from}..${from + len} copied over ${to}`;
      } else {
        const piece = bytes.slice(from, from + len);
        out = concat(bytes.subarray(0, to), piece, bytes.subarray(to));
        what = `bytes ${from}..${from + len} inserted at ${to}`;
      }
      break;
    }
    case 'zero-range': {
      const len = 1 + r.int(Math.min(n, 4096));
      const at = r.int(Math.max(n - len, 1));
      out.fill(0, at, at + len);
      what = `${len} bytes zeroed at ${at}`;
      break;
    }
    default: {
      const len = 1 + r.int(64);
      out = concat(bytes, Uint8Array.from({ length: len }, () => r.int(256)));
      what = `${len} random bytes appended`;
    }
  }
  return { bytes: out, what: `${kind}: ${what}` };
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Special floats written at random aligned positions of a float32 array (in place). */
function injectFloats(r, f32) {
  const count = 1 + r.int(r.chance(0.6) ? 3 : 64);
  const values = new Set();
  const v = r.pick(SPECIAL_FLOATS);
  for (let k = 0; k < count && f32.length > 0; k++) {
    const x = r.chance(0.7) ? v : r.pick(SPECIAL_FLOATS);
    f32[r.int(f32.length)] = x;
    values.add(x);
  }
  return `${count} value(s) set to ${[...values].join(', ')}`;
}

function injectFloatsInBytes(r, bytes) {
  const out = bytes.slice();
  const f32 = new Float32Array(out.buffer, 0, Math.floor(out.length / 4));
  return { bytes: out, what: `float injection: ${injectFloats(r, f32)}` };
}

// ---- ONNX structure ---------------------------------------------------------------------------

function onnxStructure(r, bytes) {
  let model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch {
    return binary(r, bytes); // an earlier mutation broke the protobuf: keep mutating bytes
  }
  const g = model.graph ?? (model.graph = onnx.GraphProto.create());
  const nodes = g.node ?? [];
  const inits = g.initializer ?? [];
  const kind = r.weighted({ 'attr-int': 5, 'input-dim': 2, 'init-dims': 2, 'init-floats': 4, 'delete-node': 1, 'duplicate-node': 1, rewire: 2, 'op-type': 1, 'data-type': 1, 'drop-initializer': 1, 'output-name': 1 });
  let what = kind;
  const someNode = () => nodes[r.int(nodes.length)];
  switch (kind) {
    case 'attr-int': {
      const withInts = nodes.filter((n) => (n.attribute ?? []).some((a) => a.type === 2 || a.type === 7));
      if (!withInts.length) return binary(r, bytes);
      const n = r.pick(withInts);
      const a = r.pick(n.attribute.filter((x) => x.type === 2 || x.type === 7));
      const v = r.pick(SPECIAL_INTS);
      if (a.type === 2) a.i = v;
      else if (a.ints.length) a.ints[r.int(a.ints.length)] = v;
      else a.ints = [v];
      what = `${n.opType} '${n.name}' attribute ${a.name} element set to ${v}`;
      break;
    }
    case 'input-dim': {
      const input = (g.input ?? []).find((i) => !inits.some((t) => t.name === i.name));
      const dims = input?.type?.tensorType?.shape?.dim;
      if (!dims?.length) return binary(r, bytes);
      const d = dims[r.int(dims.length)];
      const v = r.pick(SPECIAL_INTS);
      if (r.chance(0.2)) {
        d.dimParam = 'M';
        d.dimValue = undefined;
        what = `input '${input.name}' dim set to parameter 'M'`;
      } else {
        d.dimValue = v;
        d.dimParam = undefined;
        what = `input '${input.name}' dim set to ${v}`;
      }
      break;
    }
    case 'init-dims': {
      if (!inits.length) return binary(r, bytes);
      const t = r.pick(inits);
      const v = r.pick(SPECIAL_INTS);
      if (t.dims?.length) t.dims[r.int(t.dims.length)] = v;
      else t.dims = [v];
      what = `initializer '${t.name}' dim set to ${v}`;
      break;
    }
    case 'init-floats': {
      const floats = inits.filter((t) => t.dataType === 1);
      if (!floats.length) return binary(r, bytes);
      const t = r.pick(floats);
      let note;
      if (t.rawData?.length >= 4) {
        const raw = t.rawData.slice();
        note = injectFloats(r, new Float32Array(raw.buffer, 0, Math.floor(raw.length / 4)));
        t.rawData = raw;
      } else if (t.floatData?.length) note = injectFloats(r, t.floatData);
      else return binary(r, bytes);
      what = `initializer '${t.name}': ${note}`;
      break;
    }
    case 'delete-node': {
      if (!nodes.length) return binary(r, bytes);
      const i = r.int(nodes.length);
      what = `node ${i} (${nodes[i].opType}) deleted`;
      nodes.splice(i, 1);
      break;
    }
    case 'duplicate-node': {
      if (!nodes.length) return binary(r, bytes);
      const i = r.int(nodes.length);
      nodes.splice(r.int(nodes.length + 1), 0, onnx.NodeProto.fromObject(onnx.NodeProto.toObject(nodes[i])));
      what = `node ${i} (${nodes[i].opType}) duplicated`;
      break;
    }
    case 'rewire': {
      if (!nodes.length) return binary(r, bytes);
      const n = someNode();
      if (!n.input?.length) return binary(r, bytes);
      const names = [...nodes.flatMap((x) => x.output ?? []), ...inits.map((t) => t.name), 'nowhere'];
      const j = r.int(n.input.length);
      const to = r.chance(0.3) ? n.output?.[0] ?? 'nowhere' : r.pick(names);
      n.input[j] = to;
      what = `${n.opType} '${n.name}' input ${j} rewired to '${to}'${to === n.output?.[0] ? ' (a cycle)' : ''}`;
      break;
    }
    case 'op-type': {
      if (!nodes.length) return binary(r, bytes);
      const n = someNode();
      const op = r.pick(ONNX_OPS);
      what = `${n.opType} '${n.name}' made a ${op || '(empty)'}`;
      n.opType = op;
      break;
    }
    case 'data-type': {
      if (!inits.length) return binary(r, bytes);
      const t = r.pick(inits);
      t.dataType = r.int(17);
      what = `initializer '${t.name}' data type set to ${t.dataType}`;
      break;
    }
    case 'drop-initializer': {
      if (!inits.length) return binary(r, bytes);
      const i = r.int(inits.length);
      what = `initializer '${inits[i].name}' removed`;
      inits.splice(i, 1);
      break;
    }
    default: {
      const o = g.output?.[0];
      if (!o) return binary(r, bytes);
      o.name = r.pick(['nowhere', nodes[0]?.output?.[0] ?? 'x', '']);
      what = `graph output renamed to '${o.name}'`;
    }
  }
  return { bytes: onnx.ModelProto.encode(model).finish(), what: `onnx ${what}` };
}

// ---- JSON structure -----------------------------------------------------------------------------

/** Every [container, key] below `root` (objects and arrays), depth first. */
function slots(root) {
  const out = [];
  const walk = (v, depth) => {
    if (depth > 12 || v === null || typeof v !== 'object') return;
    for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) {
      out.push([v, k]);
      walk(v[k], depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

const keyPath = (root, target) => {
  // a readable path of one slot, for the description
  const find = (v, path, depth) => {
    if (v === target[0]) return `${path}.${target[1]}`;
    if (depth > 12 || v === null || typeof v !== 'object') return null;
    for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) {
      const p = find(v[k], `${path}.${k}`, depth + 1);
      if (p) return p;
    }
    return null;
  };
  return find(root, '$', 0) ?? '?';
};

/** The layer list of a TF.js model.json or an lrp model.json. */
function layersOf(json) {
  if (Array.isArray(json?.layers)) return json.layers; // lrp
  const c = json?.modelTopology?.config ?? json?.modelTopology?.model_config?.config;
  if (Array.isArray(c)) return c;
  return Array.isArray(c?.layers) ? c.layers : null;
}

function jsonStructure(r, bytes, format) {
  let json;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return binary(r, bytes);
  }
  const kind = r.weighted({ delete: 3, 'wrong-type': 3, int: 5, 'inf-literal': 2, 'big-string': 0.3, class: 2, cycle: 2, 'duplicate-layer': 1, 'swap-layers': 1 });
  const all = slots(json);
  const numeric = all.filter(([c, k]) => typeof c[k] === 'number');
  let what = kind;
  let text = null;
  const layers = layersOf(json);
  switch (kind) {
    case 'delete': {
      if (!all.length) return binary(r, bytes);
      const s = r.pick(all);
      what = `${keyPath(json, s)} deleted`;
      if (Array.isArray(s[0])) s[0].splice(s[1], 1);
      else delete s[0][s[1]];
      break;
    }
    case 'wrong-type': {
      if (!all.length) return binary(r, bytes);
      const s = r.pick(all);
      const v = r.pick(WRONG_VALUES());
      what = `${keyPath(json, s)} set to ${JSON.stringify(v)}`;
      s[0][s[1]] = v;
      break;
    }
    case 'int': {
      if (!numeric.length) return binary(r, bytes);
      const s = r.pick(numeric);
      const v = r.pick(SPECIAL_INTS);
      what = `${keyPath(json, s)} = ${s[0][s[1]]} set to ${v}`;
      s[0][s[1]] = v;
      break;
    }
    case 'inf-literal': {
      if (!numeric.length) return binary(r, bytes);
      const s = r.pick(numeric);
      const lit = r.pick(['1e999', '-1e999', 'NaN', '3.4e38', '-1e39']);
      const marker = -7777777.125;
      what = `${keyPath(json, s)} written as ${lit}`;
      s[0][s[1]] = marker;
      text = JSON.stringify(json).replace(String(marker), lit);
      break;
    }
    case 'big-string': {
      const strings = all.filter(([c, k]) => typeof c[k] === 'string');
      if (!strings.length) return binary(r, bytes);
      const s = r.pick(strings);
      what = `${keyPath(json, s)} set to a 10 MB string`;
      s[0][s[1]] = 'A'.repeat(10 * 2 ** 20);
      break;
    }
    case 'class': {
      if (!layers?.length) return binary(r, bytes);
      const l = r.pick(layers);
      if (format === 'lrp-json') {
        const t = r.pick(LRP_TYPES);
        what = `layer '${l?.name ?? '?'}' type ${l?.type} set to '${t}'`;
        if (l) l.type = t;
      } else {
        const c = r.pick(CLASS_NAMES);
        what = `layer ${l?.config?.name ?? '?'} class ${l?.class_name} set to '${c}'`;
        if (l) l.class_name = c;
      }
      break;
    }
    case 'cycle': {
      if (!layers?.length) return binary(r, bytes);
      const i = r.int(layers.length);
      const j = r.chance(0.5) ? i : i + r.int(layers.length - i);
      const l = layers[i];
      if (format === 'lrp-json') {
        const name = layers[j]?.name ?? String(j);
        if (l) l.inputs = [name];
        what = `layer ${i} reads layer ${j} ('${name}')${i === j ? ' (itself)' : ''}`;
      } else {
        const name = layers[j]?.config?.name ?? layers[j]?.name ?? 'x';
        if (l) l.inbound_nodes = [[[name, 0, 0, {}]]];
        what = `layer ${i} inbound set to layer ${j} ('${name}')${i === j ? ' (itself)' : ''}`;
      }
      break;
    }
    case 'duplicate-layer': {
      if (!layers?.length) return binary(r, bytes);
      const i = r.int(layers.length);
      layers.splice(r.int(layers.length + 1), 0, structuredClone(layers[i]));
      what = `layer ${i} duplicated`;
      break;
    }
    default: {
      if (!layers || layers.length < 2) return binary(r, bytes);
      const i = r.int(layers.length);
      const j = r.int(layers.length);
      [layers[i], layers[j]] = [layers[j], layers[i]];
      what = `layers ${i} and ${j} swapped`;
    }
  }
  return { bytes: new TextEncoder().encode(text ?? JSON.stringify(json)), what: `json ${what}` };
}

// ---- a case -------------------------------------------------------------------------------------

/** A fresh copy of `seed`'s files with 1 to 3 mutations; `r` is the case's PRNG. */
export function mutateCase(seed, r) {
  const files = new Map([...seed.files].map(([k, v]) => [k, v.slice()]));
  const description = [];
  const count = r.weighted({ 1: 6, 2: 3, 3: 1 });
  const weightFiles = [...files.keys()].filter((k) => k !== seed.entry);
  for (let m = 0; m < Number(count); m++) {
    let file;
    let change;
    if (seed.format === 'onnx') {
      file = seed.entry;
      change = r.chance(0.65) ? onnxStructure(r, files.get(file)) : binary(r, files.get(file));
    } else {
      const kind = r.weighted({ json: 5, binary: 2, floats: 3 });
      file = kind === 'json' || !weightFiles.length ? seed.entry : r.pick(weightFiles);
      const bytes = files.get(file);
      change = file === seed.entry ? (r.chance(0.85) ? jsonStructure(r, bytes, seed.format) : binary(r, bytes)) : kind === 'floats' ? injectFloatsInBytes(r, bytes) : binary(r, bytes);
    }
    files.set(file, change.bytes);
    description.push(`${file}: ${change.what}`);
  }
  return { files, description };
}
