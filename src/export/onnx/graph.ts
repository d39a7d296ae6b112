// A small builder of ONNX graphs over the official protobuf schema (the `onnx-proto` package: the
// ONNX project's onnx.proto compiled by protobufjs). It only names values, collects nodes and
// initializers and encodes the ModelProto; which operators to emit is the converter's business.
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
type NodeProto = onnxProto.onnx.INodeProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const DataType = onnx.TensorProto.DataType;
export type ElemType = onnxProto.onnx.TensorProto.DataType;

/** An attribute value: integers and floats are told apart explicitly (ONNX types them). */
export type Attr = { int: number } | { float: number } | { ints: number[] } | { floats: number[] } | { string: string };

/** A graph input or output dimension: a number, or a symbolic name (e.g. 'batch'). */
export type Dim = number | string;

function attribute(name: string, a: Attr): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in a) return { name, type: T.INT, i: a.int };
  if ('float' in a) return { name, type: T.FLOAT, f: a.float };
  if ('ints' in a) return { name, type: T.INTS, ints: a.ints };
  if ('floats' in a) return { name, type: T.FLOATS, floats: a.floats };
  return { name, type: T.STRING, s: new TextEncoder().encode(a.string) };
}

function valueInfo(name: string, elemType: ElemType, dims: Dim[]): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

export interface ModelOptions {
  opset: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
}

export class OnnxGraph {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly names = new Set<string>();

  constructor(readonly name: string) {}

  /** A value name not used yet in this graph, derived from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  input(name: string, elemType: ElemType, dims: Dim[]): string {
    const n = this.fresh(name);
    if (n !== name) throw new Error(`ONNX graph ${this.name}: input name ${name} is taken`);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares `value` a graph output named `name` (through Identity when the names differ). */
  output(value: string, name: string, elemType: ElemType, dims: Dim[]): void {
    if (value !== name) this.node('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** A float32 initializer (row-major data of shape `dims`). */
  floats(base: string, data: Float32Array, dims: number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`ONNX initializer ${base}: ${data.length} values for shape [${dims.join(', ')}]`);
    const name = this.fresh(base);
    this.initializers.push({ name, dataType: DataType.FLOAT, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
    return name;
  }

  /** An int64 initializer (e.g. the pads of Pad, the starts of Slice). */
  int64s(base: string, values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dataType: DataType.INT64, dims, int64Data: values });
    return name;
  }

  /** A float32 scalar initializer. */
  scalar(base: string, value: number): string {
    return this.floats(base, Float32Array.of(value), []);
  }

  /** Appends a node; returns the name of its (first) output. */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const out = this.fresh(output ?? `${op.toLowerCase()}`);
    this.nodes.push({
      opType: op,
      name: this.fresh(`${out}__node`),
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /** Drops the nodes and initializers no output depends on (e.g. a Pad a rewrite made unused). */
  private prune(): void {
    const needed = new Set(this.outputs.map((o) => o.name!));
    const kept: NodeProto[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (!n.output!.some((o) => needed.has(o))) continue;
      kept.push(n);
      for (const x of n.input!) needed.add(x);
    }
    this.nodes.splice(0, this.nodes.length, ...kept.reverse());
    const inits = this.initializers.filter((t) => needed.has(t.name!));
    this.initializers.splice(0, this.initializers.length, ...inits);
  }

  /** The ModelProto's bytes. */
  encode(opts: ModelOptions): Uint8Array {
    this.prune();
    const model = onnx.ModelProto.create({
      irVersion: 7, // ONNX 1.8+: enough for opset 13, readable by every maintained runtime
      opsetImport: [{ domain: '', version: opts.opset }],
      producerName: opts.producerName,
      producerVersion: opts.producerVersion,
      docString: opts.docString ?? '',
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    const err = onnx.ModelProto.verify(model);
    if (err) throw new Error(`ONNX model ${this.name} does not verify against the schema: ${err}`);
    return onnx.ModelProto.encode(model).finish();
  }
}
