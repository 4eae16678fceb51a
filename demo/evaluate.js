// The demo's Evaluate view: region perturbation (AOPC) of the chosen methods on the first bundled
// samples, and optionally the cascading randomisation sanity check, run in the explainer's Web
// Worker by the library's compareMethods / sanityCheck (the code `lrp evaluate` runs in Node);
// the table and charts are the library's own (aopcTable, curvesChart, aopcChart, toSVG).
import { ALL_METHODS, aopcChart, aopcTable, curvesChart, REPLACEMENTS, sanityChart, sanityTable, toSVG } from 'lrp-wasm';

const $ = (id) => document.getElementById(id);

/**
 * Sets up the view. `explainer` runs the calls; `samples()` lists the bundled samples
 * ({ file, className }); `inputOf(file)` gives a sample's model input (Float32Array);
 * `state` is what the end-to-end test reads (runs evaluated, failed, cancelled; evaluating now).
 */
export function setUpEvaluate({ explainer, samples, inputOf, state }) {
  for (const name of ALL_METHODS) {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = name;
    box.checked = true;
    label.append(box, ` ${name}`);
    $('eval-methods').append(label);
  }
  for (const r of REPLACEMENTS) {
    const o = document.createElement('option');
    o.value = o.textContent = r;
    $('eval-replacement').append(o);
  }
  $('eval-images').max = String(samples().length);
  $('eval-images').value = String(samples().length);

  let running = null;
  $('eval-run').addEventListener('click', () => run());
  $('eval-cancel').addEventListener('click', () => running?.abort());

  function say(text, error = false) {
    $('eval-status').textContent = text;
    $('eval-status').classList.toggle('error', error);
  }

  function progress(p, what) {
    $('eval-progress').max = p.total;
    $('eval-progress').value = p.done;
    say(`${what}: ${p.method ?? ''} (${p.done} / ${p.total})`);
  }

  /** The options the controls describe; throws a readable Error for what the library cannot name. */
  function readOptions() {
    const methods = [...document.querySelectorAll('#eval-methods input:checked')].map((b) => b.value);
    if (methods.length === 0) throw new Error('pick at least one method');
    const images = Number($('eval-images').value);
    const available = samples().length;
    if (!Number.isInteger(images) || images < 1 || images > available) throw new Error(`number of images must be a whole number from 1 to ${available} (the bundled samples), got '${$('eval-images').value}'`);
    // numbers as typed (an empty field is NaN): the library checks them and names the bad one
    const number = (id) => ($(id).value.trim() === '' ? NaN : Number($(id).value));
    // zbox bounds: the input range of metadata.json, as lrp evaluate passes the range it knows
    // (the sanity check's randomised copies of the model do not carry the metadata)
    const range = explainer.metadata?.inputRange;
    const bounds = range ? { low: range[0], high: range[1] } : {};
    return {
      methods,
      images,
      sanity: $('eval-sanity').checked,
      options: { patch: number('eval-patch'), steps: number('eval-steps'), replacement: $('eval-replacement').value, seed: number('eval-seed'), ...bounds },
    };
  }

  async function run() {
    running?.abort();
    const ctrl = new AbortController();
    running = ctrl;
    $('eval-run').disabled = true;
    $('eval-cancel').disabled = false;
    $('eval-progress').hidden = false;
    $('eval-progress').value = 0;
    $('eval-results').hidden = true; // no stale results next to this run's status
    state.evaluating = true;
    try {
      const { methods, images, sanity, options } = readOptions();
      const files = samples().slice(0, images);
      say(`preparing ${images} images…`);
      const parts = [];
      for (const s of files) parts.push(await inputOf(s.file));
      const x = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (x.set(p, at), at + p.length), 0);

      const t0 = performance.now();
      const results = await explainer.compareMethods(x, methods, { ...options, signal: ctrl.signal, onProgress: (p) => progress(p, 'region perturbation') });
      const ms = performance.now() - t0;
      showResults(results, images);
      let sanityMs = 0;
      const explaining = methods.filter((m) => m !== 'random');
      if (sanity && explaining.length > 0) {
        const t1 = performance.now();
        const s = await explainer.sanityCheck(x, explaining, { seed: options.seed, low: options.low, high: options.high, signal: ctrl.signal, onProgress: (p) => progress(p, 'sanity check') });
        sanityMs = performance.now() - t1;
        showSanity(s, images);
      }
      const e = results[0].evaluation;
      say(
        `${methods.length} methods × ${images} images, ${e.patch[0]}×${e.patch[1]} patches, ${e.steps} steps, ${e.replacement}, seed ${e.seed}: ` +
          `${(ms / 1000).toFixed(1)} s${sanityMs ? `, sanity check ${(sanityMs / 1000).toFixed(1)} s` : ''} (kernels: ${explainer.backendName})`,
      );
      state.evaluated++;
    } catch (e) {
      if (e?.name === 'AbortError') {
        say('cancelled');
        state.cancelled++;
      } else {
        say(`${e.code ? `${e.name} (${e.code})` : 'Error'}: ${e.message}`, true);
        state.failed++;
      }
    } finally {
      if (running === ctrl) {
        running = null;
        state.evaluating = false;
        $('eval-run').disabled = false;
        $('eval-cancel').disabled = true;
        $('eval-progress').hidden = true;
      }
    }
  }

  function showResults(results, images) {
    const title = `Fashion-MNIST CNN, ${images} bundled samples`;
    fillTable($('eval-table'), aopcTable(results));
    $('eval-curves').innerHTML = toSVG(curvesChart(results, title)); // the library's SVG: every text escaped
    $('eval-aopc').innerHTML = toSVG(aopcChart(results, title));
    $('eval-sanity-table').replaceChildren();
    $('eval-sanity-chart').replaceChildren();
    $('eval-results').hidden = false;
    $('eval-sanity-results').hidden = true;
  }

  function showSanity(s, images) {
    fillTable($('eval-sanity-table'), sanityTable(s));
    $('eval-sanity-chart').innerHTML = toSVG(sanityChart(s, `Sanity check: cascading randomisation, ${images} samples`));
    $('eval-sanity-results').hidden = false;
  }
}

function fillTable(table, { header, rows }) {
  const tr = (cells, tag) => {
    const row = document.createElement('tr');
    for (const c of cells) {
      const cell = document.createElement(tag);
      cell.textContent = c;
      row.append(cell);
    }
    return row;
  };
  const head = document.createElement('thead');
  head.append(tr(header, 'th'));
  const body = document.createElement('tbody');
  body.append(...rows.map((r) => tr(r, 'td')));
  table.replaceChildren(head, body);
}
