/**
 * Decoded images and the pixel operations on them: PNG/JPEG decoding, resizing, and the
 * torchvision-order transforms (RandomCrop with zero padding, RandomHorizontalFlip, ToTensor,
 * Normalize).
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { DatasetInfo } from './datasets.js';

/** One RGB image, channel-planar (CHW) like CIFAR stores it, values 0..255. */
export interface RawImage {
  h: number;
  w: number;
  chw: Uint8Array | Float32Array;
  label?: number;
}

/** Largest image we decode (pixels); a header claiming more is refused before allocating. */
export const MAX_PIXELS = 64 * 1024 * 1024;

export function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}
export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** width and height from a PNG's IHDR, without decoding */
export function pngSize(b: Uint8Array): { w: number; h: number } | undefined {
  if (!isPng(b) || b.length < 24) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { w: v.getUint32(16), h: v.getUint32(20) };
}

/** RGBA (or RGB) interleaved -> CHW RGB */
function toChw(data: Uint8Array, w: number, h: number, stride: number): Uint8Array {
  const n = w * h;
  const out = new Uint8Array(3 * n);
  for (let p = 0; p < n; p++) {
    out[p] = data[p * stride]!;
    out[n + p] = data[p * stride + 1]!;
    out[2 * n + p] = data[p * stride + 2]!;
  }
  return out;
}

/** Decode a PNG or JPEG file's bytes to RGB (grey is replicated, alpha dropped). */
export function decodeImage(bytes: Uint8Array, file: string): RawImage {
  if (isPng(bytes)) {
    const size = pngSize(bytes);
    if (!size) throw new DataError(file, 'truncated PNG (no IHDR)');
    if (size.w * size.h > MAX_PIXELS || size.w === 0 || size.h === 0) {
      throw new DataError(file, `PNG of ${size.w}x${size.h} pixels is not plausible; refusing`);
    }
    let png: { width: number; height: number; data: Uint8Array };
    try {
      png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (e) {
      throw new DataError(file, `corrupted or truncated PNG (${(e as Error).message})`, { cause: e });
    }
    return { w: png.width, h: png.height, chw: toChw(png.data, png.width, png.height, 4) };
  }
  if (isJpeg(bytes)) {
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
    } catch (e) {
      throw new DataError(file, `corrupted or truncated JPEG (${(e as Error).message})`, { cause: e });
    }
    return { w: img.width, h: img.height, chw: toChw(img.data, img.width, img.height, 4) };
  }
  throw new DataError(file, 'wrong format: not a PNG or JPEG image');
}

/** per-output-pixel [first input index, weights] of a triangle (bilinear) filter, PIL style */
function filterTaps(inSize: number, outSize: number): { start: Int32Array; count: Int32Array; weights: Float64Array; max: number } {
  const scale = inSize / outSize;
  const fscale = Math.max(scale, 1);
  const support = 1 * fscale;
  const max = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * max);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    let sum = 0;
    const n = Math.min(hi - lo, max);
    for (let j = 0; j < n; j++) {
      const x = (j + lo - center + 0.5) / fscale;
      const wgt = Math.abs(x) < 1 ? 1 - Math.abs(x) : 0;
      weights[o * max + j] = wgt;
      sum += wgt;
    }
    if (sum > 0) for (let j = 0; j < n; j++) weights[o * max + j]! /= sum;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, max };
}

/**
 * Resize to outH x outW with an antialiased bilinear (triangle) filter whose support widens by the
 * downscale factor: the filter of PIL's Image.resize(BILINEAR), which torchvision's Resize applies
 * to PIL images. Computed in float (no 8-bit rounding between the passes), so values can differ
 * from PIL's by under one grey level.
 */
export function resizeImage(img: RawImage, outH: number, outW: number): RawImage {
  if (img.h === outH && img.w === outW) return img;
  const tx = filterTaps(img.w, outW);
  const ty = filterTaps(img.h, outH);
  const tmp = new Float32Array(3 * img.h * outW);
  const out = new Float32Array(3 * outH * outW);
  for (let c = 0; c < 3; c++) {
    const src = c * img.h * img.w;
    const mid = c * img.h * outW;
    for (let y = 0; y < img.h; y++) {
      for (let x = 0; x < outW; x++) {
        let s = 0;
        const st = tx.start[x]!;
        for (let j = 0; j < tx.count[x]!; j++) s += img.chw[src + y * img.w + st + j]! * tx.weights[x * tx.max + j]!;
        tmp[mid + y * outW + x] = s;
      }
    }
    const dst = c * outH * outW;
    for (let y = 0; y < outH; y++) {
      const st = ty.start[y]!;
      for (let x = 0; x < outW; x++) {
        let s = 0;
        for (let j = 0; j < ty.count[y]!; j++) s += tmp[mid + (st + j) * outW + x]! * ty.weights[y * ty.max + j]!;
        out[dst + y * outW + x] = s;
      }
    }
  }
  return { h: outH, w: outW, chw: out, ...(img.label !== undefined ? { label: img.label } : {}) };
}

export interface Augmentation {
  /** top-left of the crop in the padded image */
  top: number;
  left: number;
  flip: boolean;
}

/** Draw one image's augmentation: RandomCrop(size, padding) then RandomHorizontalFlip(0.5). */
export function drawAugmentation(rng: Rng, padding: number): Augmentation {
  const top = rng.nextInt(2 * padding + 1);
  const left = rng.nextInt(2 * padding + 1);
  const flip = rng.nextFloat() < 0.5;
  return { top, left, flip };
}

/**
 * Write one image into `out` (CHW float32) at `offset`: optional crop/flip (zero padding, i.e. black
 * before normalisation), then ToTensor (/255) and Normalize.
 */
export function writeNormalised(
  img: RawImage,
  ds: Pick<DatasetInfo, 'mean' | 'std'>,
  out: Float32Array,
  offset: number,
  aug?: Augmentation & { padding: number },
): void {
  const { h, w } = img;
  for (let c = 0; c < 3; c++) {
    const mean = ds.mean ? ds.mean[c]! : 0;
    const std = ds.std ? ds.std[c]! : 1;
    const plane = c * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let sy = y;
        let sx = aug?.flip ? w - 1 - x : x;
        let v = 0;
        if (aug) {
          sy = y + aug.top - aug.padding;
          sx = sx + aug.left - aug.padding;
        }
        if (sy >= 0 && sy < h && sx >= 0 && sx < w) v = img.chw[plane + sy * w + sx]!;
        out[offset + plane + y * w + x] = (v / 255 - mean) / std;
      }
    }
  }
}
