// Found by the fuzzer (an ONNX input dim set to 65536): pointers into WebAssembly memory above
// 2 GiB were shifted with `>> 2`, which is signed, so buffers placed there were read and
// written at negative offsets ("offset is out of bounds"). And a memory asked to grow past
// 4 GiB grew to 4 GiB and reported success.
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, loadModel, rules, type Model } from '../../src/index.js';
import { MemoryLimitError } from '../../src/kernels/arena.js';
import { createWasmBackend } from '../../src/wasm/loader.js';
import { modelDir } from '../helpers/fixtures.js';
import { inputs, thrown } from './helpers.js';

const models: Model[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

describe('WebAssembly memory beyond 2 GiB', () => {
  it('a model whose buffers all live above 2 GiB gives the same numbers', async () => {
    const file = `${modelDir('cnn_bn')}/model.json`;
    const plain = await loadModel(file);
    const high = await loadModel(file);
    models.push(plain, high);
    // move the allocator's bump pointer above 2 GiB before the first call (pages never touched
    // cost no RAM); every workspace buffer and layer parameter then lands above it
    const backend = (high as unknown as { engine: { backend: { memory: { byteLength(): number }; exports: { memory: WebAssembly.Memory } } } }).engine.backend;
    const arena = backend.memory as unknown as { top: number };
    const needPages = (2 ** 31 + 64 * 2 ** 20 - backend.memory.byteLength()) / 65536;
    backend.exports.memory.grow(needPages);
    arena.top = 2 ** 31 + 16;
    const x = inputs(784 * 4);
    const a = plain.explain(x, { composite: 'epsilon-gamma-box', low: 0, high: 1 });
    const b = high.explain(x, { composite: 'epsilon-gamma-box', low: 0, high: 1 });
    expect(high.memoryBytes).toBeGreaterThan(2 ** 31);
    expect(b.relevance).toEqual(a.relevance);
    expect(b.logits).toEqual(a.logits);
    expect(high.predict(x)).toEqual(plain.predict(x));
  });

  it('asking for more than 4 GiB is a MemoryLimitError, before any growth', () => {
    const backend = createWasmBackend();
    const e = thrown(() => backend.memory.alloc(2 ** 32 + 2 ** 20));
    expect(e).toBeInstanceOf(MemoryLimitError);
    expect(e.message).toMatch(/more than the 4 GiB a WebAssembly memory can hold/);
    expect(backend.memory.byteLength()).toBeLessThan(2 ** 30); // it did not grow on the way
  });

  it('a layer parameter that no longer fits is an InputError E_MEMORY, and the model keeps working', async () => {
    const model = await loadModel(`${modelDir('cnn_bn')}/model.json`);
    models.push(model);
    const x = inputs(784 * 2);
    const before = model.predict(x);
    // fill the address space up to 4 GiB (untouched pages cost no RAM): the gamma rule's modified
    // weights, allocated on first use, cannot be placed
    const backend = (model as unknown as { engine: { backend: { memory: { byteLength(): number }; exports: { memory: WebAssembly.Memory } } } }).engine.backend;
    backend.exports.memory.grow(65536 - backend.memory.byteLength() / 65536);
    (backend.memory as unknown as { top: number }).top = 2 ** 32 - 4096;
    const e = thrown(() => model.explain(x, { rule: rules.gamma(0.25) }));
    expect(e).toBeInstanceOf(InputError);
    expect(e.code).toBe('E_MEMORY');
    expect(e.message).toMatch(/need more memory than WebAssembly can address .*pass a smaller \{ batch \}/);
    expect(model.predict(x)).toEqual(before);
  });
});
