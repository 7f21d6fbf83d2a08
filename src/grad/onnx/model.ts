/**
 * A small ONNX graph builder for the gradient graphs: nodes, float / int64 constants, float inputs
 * and outputs, serialised with the project's protobuf writer (ModelProto field numbers below).
 */
import { ProtoWriter } from '../../backends/onnx/protobuf.js';

const OPSET = 18;
const IR_VERSION = 8;
const FLOAT = 1;
const INT64 = 7;

export type Attr =
  | { name: string; f: number }
  | { name: string; i: number }
  | { name: string; s: string }
  | { name: string; ints: readonly number[] };

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Attr[];
}

interface Init {
  name: string;
  dims: number[];
  type: number;
  raw: Uint8Array;
}

export class OnnxGraph {
  private readonly nodes: NodeSpec[] = [];
  private readonly inits: Init[] = [];
  private readonly consts = new Map<string, string>();
  readonly inputs: { name: string; dims: (number | string)[] }[] = [];
  readonly outputs: { name: string; dims: (number | string)[] }[] = [];
  private seq = 0;

  /** Add a node; returns its (first) output name. */
  op(op: string, inputs: string[], attrs: Attr[] = [], nOut = 1): string {
    const outs = Array.from({ length: nOut }, () => `t${this.seq++}`);
    this.nodes.push({ op, inputs, outputs: outs, attrs });
    return outs[0]!;
  }

  /** A node with several outputs. */
  opN(op: string, inputs: string[], nOut: number, attrs: Attr[] = []): string[] {
    const outs = Array.from({ length: nOut }, () => `t${this.seq++}`);
    this.nodes.push({ op, inputs, outputs: outs, attrs });
    return outs;
  }

  f(vals: ArrayLike<number>, dims: number[]): string {
    const key = `f${dims.join(',')}:${Array.from(vals).join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = `k${this.consts.size}`;
      const a = Float32Array.from(vals);
      this.inits.push({ name, dims, type: FLOAT, raw: new Uint8Array(a.buffer) });
      this.consts.set(key, name);
    }
    return name;
  }

  scalar(v: number): string {
    return this.f([v], []);
  }

  i64(vals: readonly number[]): string {
    const key = `i${vals.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = `k${this.consts.size}`;
      const a = new BigInt64Array(vals.map((v) => BigInt(v)));
      this.inits.push({ name, dims: [vals.length], type: INT64, raw: new Uint8Array(a.buffer) });
      this.consts.set(key, name);
    }
    return name;
  }

  input(name: string, dims: (number | string)[]): string {
    this.inputs.push({ name, dims });
    return name;
  }

  output(value: string, name: string, dims: (number | string)[]): void {
    this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], attrs: [] });
    this.outputs.push({ name, dims });
  }

  bytes(label: string): Uint8Array {
    const w = new ProtoWriter();
    w.varint(1, IR_VERSION);
    w.string(2, 'rbflex-grad');
    w.message(7, (gw) => {
      for (const n of this.nodes) gw.message(1, (nw) => writeNode(nw, n));
      gw.string(2, label.replace(/[^\w.-]+/g, '_').slice(0, 120) || 'network');
      for (const t of this.inits) {
        gw.message(5, (tw) => {
          for (const d of t.dims) tw.varint(1, d);
          tw.varint(2, t.type);
          tw.string(8, t.name);
          tw.bytes(9, t.raw);
        });
      }
      for (const i of this.inputs) gw.message(11, (vw) => valueInfo(vw, i.name, i.dims));
      for (const o of this.outputs) gw.message(12, (vw) => valueInfo(vw, o.name, o.dims));
    });
    w.message(8, (ow) => ow.string(1, '').varint(2, OPSET));
    return w.finish();
  }
}

function writeNode(w: ProtoWriter, n: NodeSpec): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(4, n.op);
  for (const a of n.attrs) {
    w.message(5, (aw) => {
      aw.string(1, a.name);
      if ('f' in a) aw.float32(2, a.f).varint(20, 1);
      else if ('i' in a) aw.varint(3, a.i).varint(20, 2);
      else if ('s' in a) aw.string(4, a.s).varint(20, 3);
      else {
        for (const v of a.ints) aw.varint(8, v);
        aw.varint(20, 7);
      }
    });
  }
}

function valueInfo(w: ProtoWriter, name: string, dims: (number | string)[]): void {
  w.string(1, name);
  w.message(2, (tw) =>
    tw.message(1, (tt) => {
      tt.varint(1, FLOAT);
      tt.message(2, (sw) => {
        for (const d of dims) sw.message(1, (dw) => (typeof d === 'number' ? dw.varint(1, d) : dw.string(2, d)));
      });
    }),
  );
}
