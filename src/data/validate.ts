/**
 * Up-front checks of image files, so that a bad file in a folder fails before any scoring, not when
 * a seed happens to draw it (a long --repeats run would die part-way).
 *
 * - PNG: the signature, an IHDR first (plausible size, valid bit depth / colour type), then every
 *   chunk's length and CRC-32 up to IEND. This reads the whole file but does not inflate it: a
 *   truncated, cut or bit-flipped file fails; only a zlib stream that is corrupt but still carries a
 *   matching CRC would pass (it fails later, when decoded).
 * - JPEG: the SOI marker, the segments up to the frame header (size), and an EOI marker at the end.
 *
 * Results are remembered per (path, size, mtime), so a folder is checked once per process.
 */
import { statSync } from 'node:fs';
import { DataError, readBytes } from '../util/errors.js';
import { MAX_PIXELS, isJpeg, isPng } from './image.js';

export interface ImageSize {
  w: number;
  h: number;
}

const checked = new Map<string, ImageSize>();

let crcTable: Uint32Array | undefined;
/** CRC-32 (ISO-HDLC, as PNG) */
export function crc32(b: Uint8Array, from = 0, to = b.length): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

function checkPng(b: Uint8Array, file: string): ImageSize {
  for (let i = 0; i < 8; i++) if (b[i] !== PNG_SIG[i]) throw new DataError(file, 'corrupted or truncated PNG (bad signature)');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 8;
  let size: ImageSize | undefined;
  let idat = false;
  for (;;) {
    if (p + 12 > b.length) throw new DataError(file, `corrupted or truncated PNG (${b.length} bytes, ends inside a chunk${size ? '' : ' before the IHDR'})`);
    const len = v.getUint32(p);
    const type = String.fromCharCode(b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new DataError(file, `corrupted or truncated PNG (bad chunk type at byte ${p + 4})`);
    if (p + 12 + len > b.length) throw new DataError(file, `corrupted or truncated PNG (${b.length} bytes; the ${type} chunk at byte ${p} needs ${len + 12})`);
    if (size === undefined && type !== 'IHDR') throw new DataError(file, 'corrupted or truncated PNG (the first chunk is not IHDR)');
    if (crc32(b, p + 4, p + 8 + len) !== v.getUint32(p + 8 + len)) throw new DataError(file, `corrupted or truncated PNG (CRC mismatch in the ${type} chunk at byte ${p})`);
    if (type === 'IHDR') {
      if (len !== 13) throw new DataError(file, 'corrupted or truncated PNG (IHDR is not 13 bytes)');
      const w = v.getUint32(p + 8);
      const h = v.getUint32(p + 12);
      const depth = b[p + 16]!;
      const colour = b[p + 17]!;
      if (w === 0 || h === 0 || w * h > MAX_PIXELS) throw new DataError(file, `PNG of ${w}x${h} pixels is not plausible; refusing`);
      if (!PNG_DEPTHS[colour]?.includes(depth)) throw new DataError(file, `corrupted or truncated PNG (colour type ${colour} with bit depth ${depth})`);
      size = { w, h };
    } else if (type === 'IDAT') idat = true;
    p += 12 + len;
    if (type === 'IEND') break;
  }
  if (!idat) throw new DataError(file, 'corrupted or truncated PNG (no image data, IDAT)');
  return size!;
}

function checkJpeg(b: Uint8Array, file: string): ImageSize {
  let p = 2;
  let size: ImageSize | undefined;
  while (!size) {
    while (p < b.length && b[p] === 0xff) p++; // fill bytes
    if (p + 3 > b.length) throw new DataError(file, 'corrupted or truncated JPEG (no frame header)');
    const marker = b[p]!;
    p++;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) throw new DataError(file, 'corrupted or truncated JPEG (image data before the frame header)');
    const len = (b[p]! << 8) | b[p + 1]!;
    if (len < 2 || p + len > b.length) throw new DataError(file, 'corrupted or truncated JPEG (a segment runs past the end)');
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (len < 8) throw new DataError(file, 'corrupted or truncated JPEG (short frame header)');
      const h = (b[p + 3]! << 8) | b[p + 4]!;
      const w = (b[p + 5]! << 8) | b[p + 6]!;
      if (w === 0 || h === 0 || w * h > MAX_PIXELS) throw new DataError(file, `JPEG of ${w}x${h} pixels is not plausible; refusing`);
      size = { w, h };
    }
    p += len;
  }
  // the end-of-image marker, allowing a little padding after it
  const tail = b.subarray(Math.max(0, b.length - 4096));
  let eoi = false;
  for (let i = tail.length - 2; i >= 0 && !eoi; i--) eoi = tail[i] === 0xff && tail[i + 1] === 0xd9;
  if (!eoi) throw new DataError(file, 'corrupted or truncated JPEG (no end-of-image marker)');
  return size;
}

/** Checks one PNG/JPEG file and returns its size; a bad file throws a DataError naming it. */
export function checkImageFile(file: string): ImageSize {
  let key: string | undefined;
  try {
    const st = statSync(file);
    key = `${file}\0${st.size}\0${st.mtimeMs}`;
  } catch {
    // readBytes names the problem
  }
  const hit = key === undefined ? undefined : checked.get(key);
  if (hit) return hit;
  const b = readBytes(file);
  if (b.length === 0) throw new DataError(file, 'empty file');
  let size: ImageSize;
  if (isPng(b)) size = checkPng(b, file);
  else if (isJpeg(b)) size = checkJpeg(b, file);
  else throw new DataError(file, 'wrong format: not a PNG or JPEG image');
  if (key !== undefined) checked.set(key, size);
  return size;
}

/** Checks every file (in order: the first bad one is named) and returns their sizes. */
export function checkImageFiles(files: readonly string[]): ImageSize[] {
  return files.map((f) => checkImageFile(f));
}

/**
 * One note line when images of `sizes` are not `h x w`: how many are resized and how many of those
 * squashed (aspect ratio changed by more than 1%), with an example; undefined when none are.
 */
export function resizeNote(where: string, files: readonly string[], sizes: readonly ImageSize[], h: number, w: number, what = 'images'): string | undefined {
  let resized = 0;
  let squashed = 0;
  let example: number | undefined;
  sizes.forEach((s, i) => {
    if (s.h === h && s.w === w) return;
    resized++;
    example ??= i;
    if (Math.abs(s.w / s.h / (w / h) - 1) > 0.01) squashed++;
  });
  if (resized === 0) return undefined;
  const e = sizes[example!]!;
  const one = what.replace(/s$/, '');
  const all = resized === sizes.length ? (sizes.length === 1 ? `the ${one}` : `all ${sizes.length} ${what}`) : `${resized} of ${sizes.length} ${what}`;
  return `note: ${all} in ${where} ${resized === 1 ? 'is' : 'are'} not ${w}x${h} (e.g. ${files[example!]} is ${e.w}x${e.h}): resized to ${w}x${h} (bilinear, antialiased)${
    squashed ? `, ${squashed === resized ? (resized === 1 ? 'squashed' : 'all squashed') : `${squashed} of them squashed`} (aspect ratio changed)` : ''
  }`;
}
