// Fine-tune a trained model on new photos: start from its weights, keep the early layers frozen
// and train the rest, with a new classifier if the classes differ.
//   node examples/fine-tune.mjs trained.h5 photos [epochs] [out.h5]
import { loadImageFolder, loadModel, loadWeights, Model, saveModel } from 'simdnet';

const [trained, dir, epochsArg, out = 'fine-tuned.h5'] = process.argv.slice(2);
if (!trained || !dir) throw new Error('usage: node examples/fine-tune.mjs TRAINED.h5 FOLDER [epochs] [out.h5]');
const { model: base } = await loadModel(trained, { compile: false });
const { images } = await loadImageFolder(dir, { imageSize: base.inputShape[0] });

// The same architecture with every layer up to `freezeUntil` not trainable (Keras: layer.trainable = false).
const config = base.getConfig();
const layers = config.config.layers;
const freezeUntil = layers[Math.floor(layers.length * 0.8)].name;
const last = layers.findIndex((l) => l.name === freezeUntil);
layers.forEach((l, i) => { if (i <= last) l.config.trainable = false; });
// A classifier for these classes: the last Dense layer gets as many units as there are classes.
const head = layers.findLast((l) => l.className === 'Dense');
head.config.units = images.classes;
const model = Model.fromConfig(config);
const fresh = await loadWeights(model, trained, { byName: true, skipMismatch: true });
console.log(`frozen up to ${freezeUntil}; starting fresh: ${fresh.join(', ') || 'nothing'}`);
model.classNames = images.classNames;
model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
const history = await model.fit(images, { epochs: Number(epochsArg ?? 10), batchSize: 16, verbose: 0 });
console.log(`training accuracy after ${history.history.accuracy.length} epochs: ${history.history.accuracy.at(-1).toFixed(3)}`);
await saveModel(model, out);
console.log(`saved ${out}`);
await Promise.all([base.dispose(), model.dispose()]);
