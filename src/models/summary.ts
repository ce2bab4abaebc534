// Keras's model.summary() table for functional models: Layer (type), Output Shape, Param #,
// Connected to; then the parameter totals.

import type { Graph } from '../engine/graph.js';
import type { ParamLayout } from '../engine/param-layout.js';

const fmt = (n: number) => n.toLocaleString('en-US');

/** The article's Keras printed functional models 100 characters wide. */
export function summaryText(name: string, graph: Graph, layout: ParamLayout, lineLength = 100): string {
  const positions = [0.33, 0.55, 0.67, 1].map((p) => Math.floor(lineLength * p));
  const lines: string[] = [];
  const row = (fields: string[]) => {
    let line = '';
    for (const [i, f] of fields.entries()) {
      // A truncated field still ends in a space before the next one.
      if (i > 0) line = line.slice(0, -1) + ' ';
      line += f;
      line = line.slice(0, positions[i]);
      line += ' '.repeat(Math.max(0, positions[i] - line.length));
    }
    lines.push(line.trimEnd());
  };
  lines.push(`Model: "${name}"`);
  lines.push('_'.repeat(lineLength));
  row(['Layer (type)', 'Output Shape', 'Param #', 'Connected to']);
  lines.push('='.repeat(lineLength));
  for (const [i, n] of graph.nodes.entries()) {
    const layer = n.layer;
    const connections = n.inputs.map((j) => `${graph.nodes[j].layer.name}[0][0]`);
    row([`${layer.name} (${layer.className})`, `(None, ${layer.outputShape.join(', ')})`, String(layer.countParams()), connections[0] ?? '']);
    for (const c of connections.slice(1)) row(['', '', '', c]);
    lines.push(i === graph.nodes.length - 1 ? '='.repeat(lineLength) : '_'.repeat(lineLength));
  }
  const p = layout.countParams();
  lines.push(`Total params: ${fmt(p.total)}`);
  lines.push(`Trainable params: ${fmt(p.trainable)}`);
  lines.push(`Non-trainable params: ${fmt(p.nonTrainable)}`);
  lines.push('_'.repeat(lineLength));
  return lines.join('\n');
}
