/** ONNX lowering of the transformer ops (see src/ir/transformer.ts); opset 17+ (LayerNormalization). */
import type { Weights } from '../../ir/init.js';
import { TOKEN_ROWS, type TransformerOp } from '../../ir/transformer.js';
import type { Node } from '../../ir/types.js';
import type { Attr, NodeSpec } from './export.js';

const INT64 = 7;

/** What the exporter lends a lowering: its node list, initializers and constants. */
export interface LoweringContext {
  weights: Weights;
  /** the graph input's value name ([N, 3, 1, S] token input) */
  inputName: string;
  push(spec: NodeSpec): void;
  /** add a float32 initializer; returns its name */
  addInit(name: string, dims: number[], data: Float32Array): string;
  intConst(vals: number[]): string;
  floatConst(vals: number[], dims: number[]): string;
}

/** Emit the ONNX nodes of one transformer node; its result is the value `out`. */
export function lowerTransformer(n: Node, ins: string[], out: string, cx: LoweringContext): void {
  const op = n.op as TransformerOp;
  const p = cx.weights.byNode.get(n.id);
  const tmp = (s: string) => `${out}_${s}`;
  const node = (opType: string, inputs: string[], output: string, attrs?: Attr[]) => cx.push({ op: opType, inputs, outputs: [output], name: `${n.name}/${output}`, ...(attrs ? { attrs } : {}) });
  const x = ins[0]!;
  switch (op.kind) {
    case 'embedding': {
      const table = cx.addInit(`p${n.id}.weight`, [op.rows, op.dim], p!.weight!);
      const s = n.shape[0]!;
      if (op.index === 'position') {
        node('Gather', [table, cx.intConst(Array.from({ length: s }, (_, i) => i))], out, [{ name: 'axis', i: 0 }]);
      } else {
        node('Gather', [x, cx.intConst([op.index])], tmp('row'), [{ name: 'axis', i: 1 }]);
        node('Reshape', [tmp('row'), cx.intConst([-1, s])], tmp('rowf'));
        node('Cast', [tmp('rowf')], tmp('idx'), [{ name: 'to', i: INT64 }]);
        node('Gather', [table, tmp('idx')], out, [{ name: 'axis', i: 0 }]);
      }
      return;
    }
    case 'layernorm': {
      const w = cx.addInit(`p${n.id}.weight`, [op.dim], p?.weight ?? new Float32Array(op.dim).fill(1));
      const b = cx.addInit(`p${n.id}.bias`, [op.dim], p?.bias ?? new Float32Array(op.dim));
      node('LayerNormalization', [x, w, b], out, [
        { name: 'axis', i: -1 },
        { name: 'epsilon', f: op.eps },
      ]);
      return;
    }
    case 'dense': {
      // Gemm with transB reads W [outF, inF] as stored (no transposed copy, no folding at load);
      // a sequence [N, S, inF] goes through it as [N*S, inF]
      const w = cx.addInit(`p${n.id}.weight`, [op.outF, op.inF], p!.weight!);
      const gemmIns = op.bias ? [w, cx.addInit(`p${n.id}.bias`, [op.outF], p!.bias!)] : [w];
      const trans: Attr[] = [{ name: 'transB', i: 1 }];
      if (n.shape.length === 1) {
        node('Gemm', [x, ...gemmIns], out, trans);
        return;
      }
      node('Reshape', [x, cx.intConst([-1, op.inF])], tmp('2d'));
      node('Gemm', [tmp('2d'), ...gemmIns], tmp('mm'), trans);
      node('Reshape', [tmp('mm'), cx.intConst([-1, ...n.shape])], out);
      return;
    }
    case 'attention': {
      const hd = op.dim / op.heads;
      const split = cx.intConst([0, 0, op.heads, hd]);
      const [q, k, v, t] = ins as [string, string, string, string];
      node('Reshape', [q, split], tmp('q4'));
      node('Transpose', [tmp('q4')], tmp('qh'), [{ name: 'perm', ints: [0, 2, 1, 3] }]);
      node('Reshape', [k, split], tmp('k4'));
      node('Transpose', [tmp('k4')], tmp('kt'), [{ name: 'perm', ints: [0, 2, 3, 1] }]);
      node('Reshape', [v, split], tmp('v4'));
      node('Transpose', [tmp('v4')], tmp('vh'), [{ name: 'perm', ints: [0, 2, 1, 3] }]);
      node('MatMul', [tmp('qh'), tmp('kt')], tmp('qk'));
      node('Div', [tmp('qk'), cx.floatConst([Math.sqrt(hd)], [])], tmp('sc'));
      // (1 - mask) * maskValue, [N, 1, 1, S]: broadcasts over heads and query positions
      node('Gather', [t, cx.intConst([TOKEN_ROWS.mask])], tmp('m'), [{ name: 'axis', i: 1 }]);
      node('Sub', [cx.floatConst([1], []), tmp('m')], tmp('im'));
      node('Mul', [tmp('im'), cx.floatConst([op.maskValue], [])], tmp('mb'));
      node('Add', [tmp('sc'), tmp('mb')], tmp('scm'));
      node('Softmax', [tmp('scm')], tmp('pr'), [{ name: 'axis', i: -1 }]);
      node('MatMul', [tmp('pr'), tmp('vh')], tmp('ctx'));
      node('Transpose', [tmp('ctx')], tmp('ctxt'), [{ name: 'perm', ints: [0, 2, 1, 3] }]);
      node('Reshape', [tmp('ctxt'), cx.intConst([0, 0, op.dim])], out);
      return;
    }
    case 'token': {
      const f = n.shape[0]!;
      node('Gather', [x, cx.intConst([op.index])], tmp('g'), [{ name: 'axis', i: 1 }]);
      node('Reshape', [tmp('g'), cx.intConst([-1, f])], out);
      return;
    }
  }
}
