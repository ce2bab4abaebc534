// Keras's ModelCheckpoint: saves the model (atomically, with its optimizer state) after each
// epoch, or only when a monitored quantity improves.

import { ArgumentError } from '../errors.js';
import type { Model } from '../models/model.js';
import { improves, type Callback, type CallbackModel, type Logs } from '../training/callbacks.js';
import { saveModel } from './model-file.js';

export interface ModelCheckpointArgs {
  /** The quantity watched by saveBestOnly. Default 'val_loss'. */
  monitor?: string;
  /** Save only when the monitored quantity improves on the best so far. Default false. */
  saveBestOnly?: boolean;
  /** 'min', 'max', or 'auto' (max for accuracies). Default 'auto'. */
  mode?: 'auto' | 'min' | 'max';
}

export class ModelCheckpoint implements Callback {
  private model?: Model;
  private best = NaN;
  bestEpoch = -1;
  readonly monitor: string;

  /** `path` may hold {epoch} (1-based), as Keras's filepath does. */
  constructor(readonly path: string, private readonly args: ModelCheckpointArgs = {}) {
    if (typeof path !== 'string' || path === '') throw new ArgumentError('ModelCheckpoint needs a file path');
    this.monitor = args.monitor ?? 'val_loss';
  }

  setModel(model: CallbackModel): void { this.model = model as Model; }

  async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    if (!this.model) return;
    if (this.args.saveBestOnly) {
      const v = logs?.[this.monitor];
      if (v === undefined) throw new ArgumentError(`ModelCheckpoint monitors "${this.monitor}", which fit does not report (it reports ${Object.keys(logs ?? {}).join(', ')})`);
      if (!Number.isNaN(this.best) && !improves(this.monitor, this.args.mode ?? 'auto', v, this.best)) return;
      this.best = v;
      this.bestEpoch = epoch;
    }
    await saveModel(this.model, this.path.replace('{epoch}', String(epoch + 1)));
  }
}
