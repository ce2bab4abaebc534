// The demo page: simdnet's browser build used as any page would use it. Data from the user's
// files (SIGNS's two .h5 files or a folder of class folders), training with the CLI's recipes
// (fitRecipe), a live chart, Stop and Resume, classification of a photo, and model files in and
// out. Every failure shows the library's one-line message and leaves the page usable.
import {
  compileRecipe, exportOnnx, fitRecipe, holdOut, loadImageFolder, loadModel, loadSigns, readImages, recipes, runtimeInfo, saveModel, TUTORIAL,
} from '../dist/browser/simdnet.js';

const $ = (id) => document.getElementById(id);
const state = { data: undefined, model: undefined, recipe: undefined, settings: undefined, epochsDone: 0, history: [], controller: undefined, busy: false };

function showError(err) {
  const message = err instanceof Error ? err.message : String(err);
  $('error').textContent = message.startsWith('simdnet: ') ? message : `simdnet: ${message}`;
  if (!(err instanceof Error && err.name && err.name !== 'Error')) console.warn(err);
}
const clearError = () => { $('error').textContent = ''; };

// Runs an action of a button or input: one at a time, errors shown, the page left usable.
async function act(fn) {
  if (state.busy) return;
  state.busy = true;
  clearError();
  refresh();
  try {
    await fn();
  } catch (err) {
    showError(err);
  } finally {
    state.busy = false;
    refresh();
  }
}

function refresh() {
  const training = Boolean(state.controller);
  $('train').disabled = !state.data || training || state.busy;
  $('stop').disabled = !training;
  $('resume').disabled = !state.model || !state.data || !state.recipe || training || state.busy || state.epochsDone >= Number($('epochs').value);
  $('saveH5').disabled = $('saveOnnx').disabled = !state.model || training;
}

const info = runtimeInfo({ measurePeak: true });
$('runtime').textContent = `simdnet on ${info.runtime}: ${info.threads} thread${info.threads > 1 ? 's' : ''}, kernels ${info.kernels}, ` +
  `SIMD peak ${info.simdPeakGflops} GFLOP/s per core` + (info.threadsNote ? ` — ${info.threadsNote}` : '');

// ---- data
async function pickSigns() {
  const train = $('trainFile').files[0], test = $('testFile').files[0];
  if (!train || !test) {
    $('dataStatus').textContent = `${train ? 'train' : 'test'} file chosen; now the ${train ? 'test' : 'train'} file.`;
    return;
  }
  await act(async () => {
    $('dataStatus').textContent = 'Reading…';
    const d = await loadSigns({ train, test });
    state.data = { train: d.train, test: d.test, source: `SIGNS (${train.name}, ${test.name})` };
    $('dataStatus').textContent = `SIGNS: ${d.train.size} training and ${d.test.size} test images of ${d.train.classes} classes.`;
  });
}
$('trainFile').addEventListener('change', pickSigns);
$('testFile').addEventListener('change', pickSigns);

$('folder').addEventListener('change', () => act(async () => {
  $('dataStatus').textContent = 'Decoding images…';
  const { images, skipped } = await loadImageFolder($('folder').files, {
    imageSize: 64, skipBadImages: true, progress: (done, total) => { $('dataStatus').textContent = `Decoding images… ${done}/${total}`; },
  });
  // A fifth of the images tests the model; the rest trains it.
  const split = holdOut(images, 0.2, 0);
  state.data = { train: split.train, test: split.validation, source: 'your folder' };
  $('dataStatus').textContent = `${images.size} images of ${images.classes} classes (${images.classNames.join(', ')}): ` +
    `${split.train.size} to train, ${split.validation.size} to test` + (skipped.length ? `; ${skipped.length} skipped (${skipped[0].reason})` : '') + '.';
}));

// ---- training
function drawChart() {
  const c = $('chart'), g = c.getContext('2d');
  const W = c.width, H = c.height, pad = 30;
  g.clearRect(0, 0, W, H);
  const h = state.history;
  g.font = '12px system-ui';
  g.fillStyle = '#5a6170';
  g.fillText('loss (left, blue) · accuracy (right, orange) · test accuracy (green dots), per epoch', pad, 14);
  if (h.length === 0) return;
  const maxLoss = Math.max(...h.map((e) => e.loss), 1e-6);
  const x = (i) => pad + (h.length === 1 ? 0 : (i * (W - 2 * pad)) / (h.length - 1));
  const line = (key, max, color) => {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    h.forEach((e, i) => { const y = H - pad - (e[key] / max) * (H - 2 * pad); i ? g.lineTo(x(i), y) : g.moveTo(x(i), y); });
    g.stroke();
  };
  line('loss', maxLoss, '#2457c5');
  line('accuracy', 1, '#e07b00');
  g.fillStyle = '#1a8f3a';
  h.forEach((e, i) => { if (e.val_accuracy !== undefined) { g.beginPath(); g.arc(x(i), H - pad - e.val_accuracy * (H - 2 * pad), 3, 0, 7); g.fill(); } });
  g.fillStyle = '#5a6170';
  g.fillText(`epoch ${h.length}: loss ${h.at(-1).loss.toFixed(4)}, accuracy ${h.at(-1).accuracy.toFixed(3)}` +
    (h.at(-1).val_accuracy !== undefined ? `, test ${h.at(-1).val_accuracy.toFixed(3)}` : ''), pad, H - 8);
}

async function runEpochs() {
  const total = Number($('epochs').value);
  if (!Number.isInteger(total) || total < 1 || total > 1000) throw new Error(`epochs must be a whole number from 1 to 1000, got "${$('epochs').value}"`);
  const { train, test } = state.data;
  const r = state.recipe, settings = state.settings;
  const batchSize = settings.batchSize ?? r.batchSize;
  const steps = Math.ceil(train.size / batchSize);
  state.controller = new AbortController();
  refresh();
  let images = 0, t0 = performance.now(), epochStart = state.epochsDone;
  const status = (batch, epoch) => {
    const rate = images / ((performance.now() - t0) / 1000);
    $('status').textContent = `Epoch ${epoch + 1}/${total}, batch ${batch + 1}/${steps} · ${rate.toFixed(0)} images/s on ${info.threads} thread${info.threads > 1 ? 's' : ''}`;
    $('progress').value = (epoch + (batch + 1) / steps) / total;
  };
  try {
    const result = await fitRecipe(state.model, train, settings, {
      epochs: total, initialEpoch: state.epochsDone, batchSize, seed: 0, validation: undefined, test,
      signal: state.controller.signal,
      onBatchEnd: (batch, logs) => { images += logs.size; status(batch, epochStart); },
      onEpochEnd: (epoch, logs) => {
        state.epochsDone = epoch + 1;
        epochStart = epoch + 1;
        state.history.push(logs);
        drawChart();
      },
    });
    $('status').textContent = result.stopped ? `Stopped during epoch ${state.epochsDone + 1}; Resume continues from epoch ${state.epochsDone + 1}.`
      : `Trained ${state.epochsDone} epochs (${(images / ((performance.now() - t0) / 1000)).toFixed(0)} images/s).`;
  } finally {
    state.controller = undefined;
    $('modelStatus').textContent = `${state.model.name}: ${state.model.countParams().toLocaleString('en-US')} parameters, ${state.epochsDone} epochs trained, classes ${state.model.classNames.join(', ')}.`;
  }
}

$('train').addEventListener('click', () => act(async () => {
  const r = recipes[$('model').value];
  const settings = $('recipe').value === 'robust' ? r.robust : TUTORIAL;
  const { train } = state.data;
  await state.model?.dispose();
  const model = r.build(0, { classes: train.classes, imageSize: train.height, dropout: settings.dropout, standardizeImages: settings.standardizeImages });
  model.classNames = train.classNames;
  const epochs = Number($('epochs').value);
  compileRecipe(model, r, settings.learningRate ?? r.learningRate, settings, epochs, Math.ceil(train.size / (settings.batchSize ?? r.batchSize)));
  Object.assign(state, { model, recipe: r, settings, epochsDone: 0, history: [] });
  drawChart();
  state.busy = false; // Stop stays available while training
  await runEpochs();
}));
$('stop').addEventListener('click', () => state.controller?.abort());
$('resume').addEventListener('click', () => act(async () => { state.busy = false; await runEpochs(); }));

// ---- classification
async function classify(source, name) {
  if (!state.model) throw new Error('simdnet: train a model or load a .h5 first');
  const [h, w] = state.model.inputShape;
  const x = await readImages([source], h, w);
  const preview = $('preview').getContext('2d'), img = new ImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) img.data[4 * i + c] = Math.round(x.data[3 * i + c] * 255);
    img.data[4 * i + 3] = 255;
  }
  $('preview').width = w; $('preview').height = h;
  preview.putImageData(img, 0, 0);
  const p = (await state.model.predictProbabilities(x)).data;
  const names = state.model.classNames;
  const top = p.indexOf(Math.max(...p));
  $('probs').tBodies[0].innerHTML = names.map((n, k) =>
    `<tr class="${k === top ? 'top' : ''}"><td>${escape(n)}</td><td class="bar" style="width: 60%"><div style="width: ${(100 * p[k]).toFixed(1)}%"></div></td><td>${p[k].toFixed(3)}</td></tr>`).join('');
  $('modelStatus').dataset.last = `${name}: ${names[top]} (${p[top].toFixed(3)})`;
}
const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

$('photo').addEventListener('change', () => act(async () => {
  const file = $('photo').files[0];
  // Cleared, so that picking the same file again classifies it again.
  $('photo').value = '';
  if (file) await classify(file, file.name);
}));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer.files[0];
  if (f) act(() => classify(f, f.name));
});
$('camera').addEventListener('click', () => act(async () => {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('simdnet: this browser gives the page no camera (a secure context is needed)');
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 320 } }).catch((err) => {
    throw new Error(`simdnet: no camera: ${err.message}`);
  });
  $('video').srcObject = stream;
  $('video').style.display = 'block';
  $('snap').disabled = false;
}));
$('snap').addEventListener('click', () => act(async () => {
  const v = $('video');
  // The centre square of the frame, as the model sees square images.
  const side = Math.min(v.videoWidth, v.videoHeight);
  const canvas = new OffscreenCanvas(side, side);
  canvas.getContext('2d').drawImage(v, (v.videoWidth - side) / 2, (v.videoHeight - side) / 2, side, side, 0, 0, side, side);
  await classify(canvas, 'webcam snapshot');
}));

// ---- model files
function download(bytes, name) {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
$('saveH5').addEventListener('click', () => act(async () => download(await saveModel(state.model), `${state.model.name}.h5`)));
$('saveOnnx').addEventListener('click', () => act(async () => download(exportOnnx(state.model), `${state.model.name}.onnx`)));
$('loadH5').addEventListener('change', () => act(async () => {
  const file = $('loadH5').files[0];
  $('loadH5').value = '';
  if (!file) return;
  const { model, training } = await loadModel(file);
  await state.model?.dispose();
  const r = Object.values(recipes).find((x) => x.name === training?.modelName);
  Object.assign(state, { model, recipe: r, settings: training?.settings ?? TUTORIAL, epochsDone: training?.epochsDone ?? 0, history: [] });
  drawChart();
  $('modelStatus').textContent = `${file.name}: ${model.name}, ${model.countParams().toLocaleString('en-US')} parameters, input ${model.inputShape.join('x')}, classes ${model.classNames.join(', ')}.`;
}));

drawChart();
refresh();
document.body.dataset.ready = 'true';
