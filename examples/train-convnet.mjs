// Train the tutorial's ConvNet on SIGNS from code, evaluate it and save it.
//   node examples/train-convnet.mjs [epochs] [out.h5]
import { convNet, loadSigns, optimizers, saveModel } from 'simdnet';

const epochs = Number(process.argv[2] ?? 100);
const out = process.argv[3] ?? 'convnet.h5';

const { train, test } = await loadSigns(); // ../shared/data/signs, or SIMDNET_DATA
const model = convNet({ seed: 0 });
model.compile({ optimizer: optimizers.adam({ learningRate: 0.009 }), loss: 'softmaxCrossEntropy', metrics: ['accuracy'] });
await model.fit(train, { epochs, batchSize: 64, verbose: 0 });
const { loss, accuracy } = await model.evaluate(test);
console.log(`test loss ${loss.toFixed(4)}, test accuracy ${accuracy.toFixed(4)}`);
await saveModel(model, out);
console.log(`saved ${out}`);
await model.dispose();
