// Export to ONNX: every simdnet layer as standard ONNX operators (opset 13 by default), so that
// ONNX Runtime, a browser, PyTorch or TensorFlow can run a trained model. The exported model takes
// the same NHWC float input as simdnet (a Transpose to NCHW at the start; ONNX's convolutions
// are NCHW) and gives the same output (probabilities, or logits). Batch norm is exported in its
// inference form, not folded into the convolution. Class names go into metadata_props.

import onnxProto from 'onnx-proto';
import { ArgumentError } from '../errors.js';
import type { Layer } from '../layers/layer.js';
import { window2d } from '../kernels/padding.js';
import type { Model } from '../models/model.js';
import { platform } from '#platform';
import { VERSION } from '../version.js';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

// A value in the exported graph: its name and whether it is an image (NCHW) or a vector (N, C).
interface Value { name: string; rank: 2 | 4 }

/** What one layer's exporter can use: its inputs, the model's weights, and a way to add nodes. */
export interface OnnxContext {
  readonly layer: Layer;
  readonly inputs: Value[];
  readonly opset: number;
  /** The values of the layer's weight `name` (`kernel`, `bias`, ...). */
  weight(name: string): Float32Array;
  /** Adds an initializer (constant) and returns its name. */
  constant(name: string, dims: number[], values: Float32Array | BigInt64Array): string;
  /** Adds a node; returns its output's name. */
  node(opType: string, inputs: string[], attributes?: Record<string, number | number[] | string>, output?: string): string;
}

/** Writes one layer as ONNX nodes (registerOnnxExporter) and returns its output value. */
export type LayerExporter = (ctx: OnnxContext) => Value;

const exporters = new Map<string, LayerExporter>();

/** How a layer class is written in ONNX; a layer written outside simdnet registers its own. */
export function registerOnnxExporter(className: string, exporter: LayerExporter): void {
  exporters.set(className, exporter);
}

function attribute(name: string, v: number | number[] | string): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
}

// The output of `v` after the layer's activation.
function activate(ctx: OnnxContext, v: Value, activation: string): Value {
  if (activation === 'relu') return { name: ctx.node('Relu', [v.name]), rank: v.rank };
  // softmax over the channels: the last axis in NHWC, axis 1 in NCHW and in (N, C)
  if (activation === 'softmax') return { name: ctx.node('Softmax', [v.name], { axis: 1 }), rank: v.rank };
  return v;
}

// TensorFlow padding of a window as ONNX pads: [top, left, bottom, right].
function pads(layer: Layer, kernel: number, stride: number, padding: 'valid' | 'same'): number[] {
  const [H, W] = layer.inputShapes[0];
  const g = window2d(H, W, kernel, kernel, stride, padding);
  return [g.padT, g.padL, g.padB, g.padR];
}

function requireImage(ctx: OnnxContext): Value {
  const v = ctx.inputs[0];
  if (v.rank !== 4) throw new ArgumentError(`layer "${ctx.layer.name}" (${ctx.layer.className}) takes images; ONNX export found a vector`);
  return v;
}

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

registerOnnxExporter('Conv2D', (ctx) => {
  const l = ctx.layer as Any;
  const x = requireImage(ctx);
  const [kh, kw, cin, cout] = l.weights[0].shape as number[];
  // (kh, kw, cin, cout) -> (cout, cin, kh, kw)
  const k = ctx.weight('kernel'), w = new Float32Array(k.length);
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let c = 0; c < cin; c++) for (let o = 0; o < cout; o++) {
    w[((o * cin + c) * kh + a) * kw + b] = k[((a * kw + b) * cin + c) * cout + o];
  }
  const inputs = [x.name, ctx.constant('kernel', [cout, cin, kh, kw], w)];
  if (l.useBias) inputs.push(ctx.constant('bias', [cout], ctx.weight('bias')));
  const y = ctx.node('Conv', inputs, { kernel_shape: [kh, kw], strides: [l.strides, l.strides], pads: pads(l as Layer, l.kernelSize, l.strides, l.padding) });
  return activate(ctx, { name: y, rank: 4 }, l.activation);
});

registerOnnxExporter('Dense', (ctx) => {
  const l = ctx.layer as Any;
  const x = ctx.inputs[0];
  if (x.rank !== 2) throw new ArgumentError(`layer "${l.name}" (Dense) takes vectors; add a Flatten before it`);
  const [i, o] = l.weights[0].shape as number[];
  const inputs = [x.name, ctx.constant('kernel', [i, o], ctx.weight('kernel'))];
  if (l.useBias) inputs.push(ctx.constant('bias', [o], ctx.weight('bias')));
  return activate(ctx, { name: ctx.node('Gemm', inputs), rank: 2 }, l.activation);
});

registerOnnxExporter('BatchNormalization', (ctx) => {
  const l = ctx.layer as Any;
  const x = ctx.inputs[0];
  const C = (l.weights[0].shape as number[])[0];
  const y = ctx.node('BatchNormalization', [x.name, ctx.constant('gamma', [C], ctx.weight('gamma')), ctx.constant('beta', [C], ctx.weight('beta')),
    ctx.constant('moving_mean', [C], ctx.weight('moving_mean')), ctx.constant('moving_variance', [C], ctx.weight('moving_variance'))], { epsilon: l.epsilon });
  return { name: y, rank: x.rank };
});

registerOnnxExporter('Activation', (ctx) => {
  const l = ctx.layer as Any;
  const x = ctx.inputs[0];
  if (l.activation === 'linear') return { name: ctx.node('Identity', [x.name]), rank: x.rank };
  return activate(ctx, x, l.activation);
});
// Keras's ReLU: Relu, Clip for a ceiling (ReLU6), and in primitives with a slope or threshold.
registerOnnxExporter('ReLU', (ctx) => {
  const l = ctx.layer as Any;
  const x = ctx.inputs[0];
  const maxValue = l.maxValue as number | null, slope = l.negativeSlope as number, threshold = l.threshold as number;
  const scalar = (name: string, v: number) => ctx.constant(name, [], Float32Array.of(v));
  if (slope === 0 && threshold === 0) {
    if (maxValue === null) return { name: ctx.node('Relu', [x.name]), rank: x.rank };
    return { name: ctx.node('Clip', [x.name, scalar('min', 0), scalar('max', maxValue)]), rank: x.rank };
  }
  // x > threshold ? min(x, maxValue) : slope * (x - threshold); x >= maxValue gives maxValue either way.
  const above = ctx.node('Greater', [x.name, scalar('threshold', threshold)]);
  const below = ctx.node('Mul', [ctx.node('Sub', [x.name, scalar('threshold_', threshold)]), scalar('slope', slope)]);
  const top = maxValue === null ? x.name : ctx.node('Min', [x.name, scalar('max', maxValue)]);
  return { name: ctx.node('Where', [above, top, below]), rank: x.rank };
});

// Keras's depthwise kernel (kh, kw, C, M) as ONNX's grouped one (C·M, 1, kh, kw): output channel c·M + m.
function depthwiseKernel(ctx: OnnxContext, name: string): { w: Float32Array; dims: number[] } {
  const [kh, kw, C, M] = (ctx.layer.weights.find((w) => w.name === name)!.shape);
  const k = ctx.weight(name), w = new Float32Array(k.length);
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let o = 0; o < C * M; o++) w[(o * kh + a) * kw + b] = k[(a * kw + b) * C * M + o];
  return { w, dims: [C * M, 1, kh, kw] };
}

function depthwiseConv(ctx: OnnxContext, x: Value, bias: string | undefined): string {
  const l = ctx.layer as Any;
  const { w, dims } = depthwiseKernel(ctx, 'depthwise_kernel');
  const reach = (l.kernelSize - 1) * l.dilationRate + 1;
  const inputs = [x.name, ctx.constant('depthwise_kernel', dims, w)];
  if (bias) inputs.push(bias);
  return ctx.node('Conv', inputs, {
    group: dims[0] / l.depthMultiplier, kernel_shape: [l.kernelSize, l.kernelSize], strides: [l.strides, l.strides],
    dilations: [l.dilationRate, l.dilationRate], pads: pads(l as Layer, reach, l.strides, l.padding),
  });
}

registerOnnxExporter('DepthwiseConv2D', (ctx) => {
  const l = ctx.layer as Any;
  const x = requireImage(ctx);
  const bias = l.useBias ? ctx.constant('bias', [l.outputShape[2]], ctx.weight('bias')) : undefined;
  return activate(ctx, { name: depthwiseConv(ctx, x, bias), rank: 4 }, l.activation);
});

registerOnnxExporter('SeparableConv2D', (ctx) => {
  const l = ctx.layer as Any;
  const x = requireImage(ctx);
  const mid = depthwiseConv(ctx, x, undefined);
  const [, , CM, F] = l.weights[1].shape as number[];
  const k = ctx.weight('pointwise_kernel'), w = new Float32Array(k.length);
  for (let c = 0; c < CM; c++) for (let f = 0; f < F; f++) w[f * CM + c] = k[c * F + f];
  const inputs = [mid, ctx.constant('pointwise_kernel', [F, CM, 1, 1], w)];
  if (l.useBias) inputs.push(ctx.constant('bias', [F], ctx.weight('bias')));
  return activate(ctx, { name: ctx.node('Conv', inputs, { kernel_shape: [1, 1] }), rank: 4 }, l.activation);
});

registerOnnxExporter('Rescaling', (ctx) => {
  const l = ctx.layer as Any;
  const x = ctx.inputs[0];
  const y = ctx.node('Add', [ctx.node('Mul', [x.name, ctx.constant('scale', [], Float32Array.of(l.scale))]), ctx.constant('offset', [], Float32Array.of(l.offset))]);
  return { name: y, rank: x.rank };
});

// The channels: axis 1 in NCHW and in (N, C).
registerOnnxExporter('Concatenate', (ctx) => ({ name: ctx.node('Concat', ctx.inputs.map((v) => v.name), { axis: 1 }), rank: ctx.inputs[0].rank }));

registerOnnxExporter('Add', (ctx) => {
  let sum = ctx.node('Add', [ctx.inputs[0].name, ctx.inputs[1].name]);
  for (const v of ctx.inputs.slice(2)) sum = ctx.node('Add', [sum, v.name]);
  return { name: sum, rank: ctx.inputs[0].rank };
});

registerOnnxExporter('ZeroPadding2D', (ctx) => {
  const [[t, b], [l, r]] = (ctx.layer as Any).pad as [[number, number], [number, number]];
  const x = requireImage(ctx);
  const p = ctx.constant('pads', [8], BigInt64Array.from([0, 0, t, l, 0, 0, b, r].map(BigInt)));
  return { name: ctx.node('Pad', [x.name, p], { mode: 'constant' }), rank: 4 };
});

// TensorFlow's pooling: padded cells never win a max and are not counted in a mean.
registerOnnxExporter('MaxPooling2D', (ctx) => {
  const l = ctx.layer as Any;
  const x = requireImage(ctx);
  return { name: ctx.node('MaxPool', [x.name], { kernel_shape: [l.poolSize, l.poolSize], strides: [l.strides, l.strides], pads: pads(l as Layer, l.poolSize, l.strides, l.padding) }), rank: 4 };
});
registerOnnxExporter('AveragePooling2D', (ctx) => {
  const l = ctx.layer as Any;
  const x = requireImage(ctx);
  return {
    name: ctx.node('AveragePool', [x.name], { kernel_shape: [l.poolSize, l.poolSize], strides: [l.strides, l.strides], pads: pads(l as Layer, l.poolSize, l.strides, l.padding), count_include_pad: 0 }),
    rank: 4,
  };
});
registerOnnxExporter('GlobalAveragePooling2D', (ctx) => ({ name: ctx.node('Flatten', [ctx.node('GlobalAveragePool', [requireImage(ctx).name])], { axis: 1 }), rank: 2 }));
registerOnnxExporter('GlobalMaxPooling2D', (ctx) => ({ name: ctx.node('Flatten', [ctx.node('GlobalMaxPool', [requireImage(ctx).name])], { axis: 1 }), rank: 2 }));

// simdnet flattens in NHWC order, as Keras does: back to NHWC, then flatten.
registerOnnxExporter('Flatten', (ctx) => {
  const x = ctx.inputs[0];
  const nhwc = x.rank === 4 ? ctx.node('Transpose', [x.name], { perm: [0, 2, 3, 1] }) : x.name;
  return { name: ctx.node('Flatten', [nhwc], { axis: 1 }), rank: 2 };
});

// Inference: the identity.
registerOnnxExporter('Dropout', (ctx) => ({ name: ctx.node('Dropout', [ctx.inputs[0].name]), rank: ctx.inputs[0].rank }));

// Mean over `axes` keeping them (opset 18 moved the axes from an attribute to an input).
function reduceMean(ctx: OnnxContext, x: string, axes: number[], name: string): string {
  if (ctx.opset >= 18) return ctx.node('ReduceMean', [x, ctx.constant(name, [axes.length], BigInt64Array.from(axes.map(BigInt)))], { keepdims: 1 });
  return ctx.node('ReduceMean', [x], { axes, keepdims: 1 });
}

// In primitives (ONNX's own LayerNormalization needs opset 17): (x - mean) / sqrt(var + eps),
// then gamma and beta, laid out to broadcast over the NCHW value.
registerOnnxExporter('LayerNormalization', (ctx) => {
  const l = ctx.layer as Any;
  const x = ctx.inputs[0];
  const shape = l.inputShapes[0] as number[];
  const first = shape.length + 1 - (l.normalizedShape as number[]).length; // the first normalized Keras axis (batch = 0)
  const kept = (a: number) => (a >= first ? shape[a - 1] : 1);
  // Keras axes 1..3 of an image are NCHW axes 2, 3, 1.
  const axes = x.rank === 4 ? [1, 2, 3].filter((a) => a >= first).map((a) => (a === 3 ? 1 : a + 1)).sort() : [1];
  const mean = reduceMean(ctx, x.name, axes, 'mean_axes');
  const d = ctx.node('Sub', [x.name, mean]);
  const variance = reduceMean(ctx, ctx.node('Mul', [d, d]), axes, 'variance_axes');
  let y = ctx.node('Div', [d, ctx.node('Sqrt', [ctx.node('Add', [variance, ctx.constant('epsilon', [], Float32Array.of(l.epsilon))])])]);
  const param = (name: string) => {
    const g = ctx.weight(name);
    if (x.rank === 2) return ctx.constant(name, [g.length], g);
    const [H, W, C] = [kept(1), kept(2), kept(3)];
    const t = new Float32Array(g.length);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) t[(c * H + h) * W + w] = g[(h * W + w) * C + c];
    return ctx.constant(name, [C, H, W], t);
  };
  if (l.scale) y = ctx.node('Mul', [y, param('gamma')]);
  if (l.center) y = ctx.node('Add', [y, param('beta')]);
  return { name: y, rank: x.rank };
});

/** Options of exportOnnx and saveOnnx. */
export interface OnnxExportOptions {
  /** The ONNX operator set. Default 13 (ONNX Runtime 1.8 and later). */
  opset?: number;
}

/** The model as an ONNX ModelProto's bytes. */
export function exportOnnx(model: Model, options: OnnxExportOptions = {}): Uint8Array {
  const opset = options.opset ?? 13;
  if (!Number.isInteger(opset) || opset < 13) throw new ArgumentError(`opset must be a whole number of 13 or more, got ${opset}`);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const values = new Map<number, Value>();
  const weights = model.getWeights();
  let counter = 0;
  const graph = model.graph;
  const inShape = model.inputShape;
  if (inShape.length !== 3 && inShape.length !== 1) throw new ArgumentError(`ONNX export takes models of images (height, width, channels) or vectors; this one takes (${inShape.join(', ')})`);
  for (const [i, n] of graph.nodes.entries()) {
    const layer = n.layer;
    const prefix = layer.name;
    const ctx: OnnxContext = {
      layer,
      inputs: n.inputs.map((j) => values.get(j)!),
      opset,
      weight: (name) => weights[`${layer.name}/${name}`].data,
      constant: (name, dims, data) => {
        const full = `${prefix}/${name}`;
        initializers.push(data instanceof BigInt64Array
          ? { name: full, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: Array.from(data, (v) => Number(v)) }
          : { name: full, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
        return full;
      },
      node: (opType, inputs, attributes = {}, output) => {
        const out = output ?? `${prefix}/${opType.toLowerCase()}_${counter++}`;
        nodes.push({ opType, input: inputs, output: [out], name: out, attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)) });
        return out;
      },
    };
    if (i === graph.inputNode) {
      values.set(i, inShape.length === 3 ? { name: ctx.node('Transpose', ['input'], { perm: [0, 3, 1, 2] }), rank: 4 } : { name: 'input', rank: 2 });
      continue;
    }
    const exporter = exporters.get(layer.className);
    if (!exporter) throw new ArgumentError(`cannot export layer "${layer.name}" (${layer.className}) to ONNX: no exporter for that layer class (registerOnnxExporter adds one)`);
    values.set(i, exporter(ctx));
  }
  const out = values.get(graph.outputNode)!;
  nodes.push({ opType: 'Identity', input: [out.name], output: ['output'], name: 'output' });
  const dim = (d: number | string) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d });
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'simdnet',
    producerVersion: VERSION,
    modelVersion: 1,
    docString: `${model.name}, exported by simdnet`,
    metadataProps: [{ key: 'class_names', value: JSON.stringify(model.classNames) }, { key: 'input_layout', value: 'NHWC' }],
    graph: {
      name: model.name,
      node: nodes,
      initializer: initializers,
      input: [{ name: 'input', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [dim('batch'), ...inShape.map(dim)] } } } }],
      output: [{ name: 'output', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [dim('batch'), dim(model.outputShape[0])] } } } }],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** Writes the model as an ONNX file (through a temporary name). */
export async function saveOnnx(model: Model, path: string, options: OnnxExportOptions = {}): Promise<void> {
  // The weights of one whole step (exportOnnx reads them without yielding).
  await model.core.gate.idle();
  const bytes = exportOnnx(model, options);
  await platform.files.writeAtomically(path, (tmp) => platform.files.writeFile(tmp, bytes));
}

