/**
 * bzip2 decompression with a ceiling on the output size (seek-bzip, pure JS, synchronous).
 * A corrupted or truncated stream, or one that would decompress past `maxBytes`, becomes a
 * DataError naming the file.
 */
import { createRequire } from 'node:module';
import { DataError } from './errors.js';

interface OutStream {
  writeByte(b: number): void;
}
interface InStream {
  readByte(): number;
  read(buffer: Uint8Array, offset: number, length: number): number;
  seek(pos: number): void;
}
interface SeekBzip {
  decode(input: InStream, output: OutStream, multistream?: boolean): unknown;
}

const require = createRequire(import.meta.url);
const Bunzip = require('seek-bzip') as SeekBzip;

/** default ceiling: far above any NATS-Bench per-architecture or meta file (a few MB) */
export const DEFAULT_BZ2_LIMIT = 512 * 1024 * 1024;

class LimitedSink implements OutStream {
  buf: Uint8Array;
  pos = 0;
  constructor(
    initial: number,
    private readonly limit: number,
  ) {
    this.buf = new Uint8Array(Math.min(Math.max(1024, initial), limit));
  }
  writeByte(b: number): void {
    if (this.pos === this.buf.length) {
      if (this.pos >= this.limit) throw new LimitError();
      const next = new Uint8Array(Math.min(this.limit, this.buf.length * 2));
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.pos++] = b;
  }
}

class LimitError extends Error {}
class EndOfInput extends Error {}

/**
 * Input that throws when read past its end. (seek-bzip's own buffer input has an eof() that makes
 * the decoder stop quietly at a block boundary, so a file cut there would pass as complete; without
 * eof() the decoder must read the end-of-stream marker and the stream CRC.)
 */
function strictInput(buf: Uint8Array): InStream {
  let pos = 0;
  return {
    readByte(): number {
      if (pos >= buf.length) throw new EndOfInput();
      return buf[pos++]!;
    },
    read(out: Uint8Array, offset: number, length: number): number {
      if (pos + length > buf.length) throw new EndOfInput();
      out.set(buf.subarray(pos, pos + length), offset);
      pos += length;
      return length;
    },
    seek(p: number): void {
      pos = p;
    },
  };
}

export function bunzip2(input: Uint8Array, file: string, maxBytes = DEFAULT_BZ2_LIMIT): Uint8Array {
  if (input.length < 4 || input[0] !== 0x42 || input[1] !== 0x5a || input[2] !== 0x68) {
    throw new DataError(file, 'wrong format: not a bzip2 file (no "BZh" signature)');
  }
  const sink = new LimitedSink(input.length * 8, maxBytes);
  try {
    Bunzip.decode(strictInput(input), sink, false);
  } catch (e) {
    if (e instanceof LimitError) throw new DataError(file, `bzip2 data decompresses to more than ${maxBytes} bytes; refusing`);
    if (e instanceof EndOfInput) throw new DataError(file, 'truncated bzip2 data (the stream ends early)');
    const msg = e instanceof Error ? e.message : String(e);
    throw new DataError(file, `corrupted or truncated bzip2 data (${msg})`, { cause: e });
  }
  return sink.buf.subarray(0, sink.pos);
}
