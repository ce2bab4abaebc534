// Train on your own photos: a folder with one sub-folder per class (photos/cat/*.jpg,
// photos/dog/*.png, ...), as Keras's image_dataset_from_directory reads it.
//   node examples/train-folder.mjs photos [epochs] [out.h5]
import { loadImageFolder, resNet50, holdOut, saveModel } from 'simdnet';

const [dir, epochsArg, out = 'my-model.h5'] = process.argv.slice(2);
if (!dir) throw new Error('usage: node examples/train-folder.mjs FOLDER [epochs] [out.h5]');
const { images, skipped } = await loadImageFolder(dir, { imageSize: 64, skipBadImages: true });
for (const s of skipped) console.log(`skipped ${s.file}: ${s.reason}`);
console.log(`${images.size} images of ${images.classes} classes: ${images.classNames.join(', ')}`);

// A seeded 20% held out to see how well the model does on photos it did not train on.
const { train, validation } = holdOut(images, 0.2, 0);
const model = resNet50({ classes: images.classes, standardizeImages: true, seed: 0 });
model.classNames = images.classNames;
model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
await model.fit(train, { epochs: Number(epochsArg ?? 20), batchSize: 16, validationData: validation, verbose: 1 });
await saveModel(model, out);
console.log(`saved ${out} (classes: ${model.classNames.join(', ')})`);
await model.dispose();
