/**
 * Resize / Upsample (nearest): accepted when the ONNX coordinate mode picks the same source pixels
 * as PyTorch's nearest interpolation (src = floor(dst * in / out)), which is the IR's resize.
 */
import type { Lowering } from './context.js';
import type { OnnxNode } from './model.js';
import type { SymInt } from './values.js';

export function resize(L: Lowering, n: OnnxNode): void {
  const x = L.fmap(n, 0);
  const [C, H, W] = L.irShape(x) as [number, number, number];
  const mode = L.attrString(n, 'mode', 'nearest');
  if (mode !== 'nearest') L.fail(`mode '${mode}' is not supported; only nearest`);
  let ctm = 'asymmetric';
  let nearestMode = 'floor';
  let scales: number[] | undefined;
  let sizes: SymInt[] | undefined;
  let axes = [0, 1, 2, 3];
  if (n.opType === 'Upsample') {
    const sa = L.attr(n, 'scales');
    if (sa) {
      if (sa.type !== 'floats') L.fail('scales should be floats');
      scales = sa.floats;
    } else scales = [...L.floatConst(n, 1, 'scales').data];
    if (scales.some((s) => s < 1)) L.fail('Upsample with a scale below 1 is not supported');
  } else {
    if (L.attrInt(n, 'antialias', 0) !== 0) L.fail('antialias=1 is not supported');
    const kar = L.attrString(n, 'keep_aspect_ratio_policy', 'stretch');
    if (kar !== 'stretch') L.fail(`keep_aspect_ratio_policy '${kar}' is not supported`);
    ctm = L.attrString(n, 'coordinate_transformation_mode', L.opset >= 11 ? 'half_pixel' : 'asymmetric');
    nearestMode = L.attrString(n, 'nearest_mode', L.opset >= 11 ? 'round_prefer_floor' : 'simple');
    const ax = L.attrInts(n, 'axes');
    if (ax) axes = ax.map((a) => (a < 0 ? a + 4 : a));
    if (L.opset < 11) {
      scales = [...L.floatConst(n, 1, 'scales').data];
    } else {
      const sv = L.optional(n, 2);
      if (sv && !(sv.kind === 'float' && sv.data.length === 0)) scales = [...L.floatConst(n, 2, 'scales').data];
      const zv = L.optional(n, 3);
      if (zv && !(zv.kind === 'ints' && zv.data.length === 0)) sizes = L.intsConst(n, 3, 'sizes').data;
    }
  }
  if (!scales && !sizes) L.fail('neither scales nor sizes are given');
  const spec = (sizes ?? scales)!;
  if (spec.length !== axes.length) L.fail(`${sizes ? 'sizes' : 'scales'} has ${spec.length} entries for ${axes.length} axes`);
  const inDims = [0, C, H, W];
  const outDims: number[] = [0, C, H, W];
  const scaleOf: number[] = [1, 1, 1, 1];
  axes.forEach((ax, i) => {
    if (ax < 0 || ax > 3) L.fail(`axis ${ax} is out of range`);
    const inD = inDims[ax]!;
    if (sizes) {
      const d = sizes[i]!;
      if (ax === 0) {
        if (!(d === 'N' || d === L.declaredBatch)) L.fail('resizing the batch dimension is not supported');
        return;
      }
      if (d === 'N' || d < 1) L.fail(`invalid size ${d}`);
      outDims[ax] = d;
      scaleOf[ax] = d / inD;
    } else {
      const s = scales![i]!;
      if (ax === 0) {
        if (s !== 1) L.fail('resizing the batch dimension is not supported');
        return;
      }
      if (!(s > 0) || !Number.isFinite(s)) L.fail(`invalid scale ${s}`);
      outDims[ax] = Math.floor(inD * s);
      scaleOf[ax] = s;
    }
  });
  if (outDims[1] !== C) L.fail('resizing the channel dimension is not supported');
  const OH = outDims[2]!;
  const OW = outDims[3]!;
  if (OH < 1 || OW < 1 || OH > 16384 || OW > 16384) L.fail(`output size ${OH}x${OW} is out of range`);
  // our resize is PyTorch's nearest: src = floor(dst * in / out); accept any mode that picks the same pixels
  const check = (inD: number, outD: number, scale: number) => {
    for (let d = 0; d < outD; d++) {
      const want = Math.min(Math.floor(d * (inD / outD)), inD - 1);
      let xo: number;
      switch (ctm) {
        case 'asymmetric':
          xo = d / scale;
          break;
        case 'half_pixel':
          xo = (d + 0.5) / scale - 0.5;
          break;
        case 'pytorch_half_pixel':
          xo = outD > 1 ? (d + 0.5) / scale - 0.5 : 0;
          break;
        case 'align_corners':
          xo = outD === 1 ? 0 : (d * (inD - 1)) / (outD - 1);
          break;
        case 'tf_half_pixel_for_nearest':
          xo = (d + 0.5) / scale;
          break;
        default:
          return L.fail(`coordinate_transformation_mode '${ctm}' is not supported`);
      }
      let src: number;
      const fr = xo - Math.floor(xo);
      switch (nearestMode) {
        case 'simple':
          src = scale < 1 ? Math.ceil(xo) : Math.floor(xo);
          break;
        case 'floor':
          src = Math.floor(xo);
          break;
        case 'ceil':
          src = Math.ceil(xo);
          break;
        case 'round_prefer_floor':
          src = fr === 0.5 ? Math.floor(xo) : Math.round(xo);
          break;
        case 'round_prefer_ceil':
          src = fr === 0.5 ? Math.ceil(xo) : Math.round(xo);
          break;
        default:
          return L.fail(`nearest_mode '${nearestMode}' is not supported`);
      }
      src = Math.min(Math.max(src, 0), inD - 1);
      if (src !== want) {
        L.fail(
          `nearest resize with coordinate_transformation_mode='${ctm}', nearest_mode='${nearestMode}' from ${inD} to ${outD} picks other pixels than PyTorch's nearest (asymmetric, floor), which is what is supported`,
        );
      }
    }
  };
  check(H, OH, scaleOf[2]!);
  check(W, OW, scaleOf[3]!);
  const id = OH === H && OW === W ? x : L.b.resize(L.irName(n), x, [OH, OW]);
  L.set(n, { kind: 'tensor', id, squeezed: false });
}
