// Classify photos with a saved model: the sign and its probability for each.
//   node examples/predict-photo.mjs model.h5 photo.jpg [more.png ...]
import { loadModel, readImages } from 'simdnet';

const [file, ...photos] = process.argv.slice(2);
if (!file || photos.length === 0) throw new Error('usage: node examples/predict-photo.mjs MODEL.h5 PHOTO...');
const { model } = await loadModel(file);
const [H, W] = model.inputShape;
const x = await readImages(photos, H, W); // decoded, resized, in [0, 1]
const p = await model.predictProbabilities(x);
const K = model.outputShape[0];
photos.forEach((photo, i) => {
  const row = Array.from(p.data.subarray(i * K, (i + 1) * K));
  const k = row.indexOf(Math.max(...row));
  console.log(`${photo}: ${model.classNames[k]} (${(100 * row[k]).toFixed(1)}%)`);
});
await model.dispose();
