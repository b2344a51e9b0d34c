/**
 * A msgpack writer for data of JSON's own types (json-values.ts says which), which checks each value
 * as it writes it and notes where each value's bytes end. A cluster client packs its chunks'
 * arguments with it (bullmq/packing.ts): checking the types first, then packing with msgpackr, then
 * finding where each call's bytes end took it 1.5–1.9 times as long (docs/internals/codec.md), and
 * packing is most of a client's CPU in a batch of trivial calls.
 *
 * It writes only forms that the pool's msgpackr decoder (msgpack.ts, plain) reads back as JSON would:
 * nil, booleans, the smallest integer form or a float 64, UTF-8 strings, arrays, and objects as
 * maps of 16-bit length (as msgpackr's own object writer does). Like JSON, it writes -0 as 0.
 */
import { MAX_JSON_DEPTH } from './json-values.js';

/** The scratch buffer's first size. */
const FIRST_BYTES = 64 * 1024;
/** A scratch buffer grown past this is dropped after use, so that one large chunk does not stay in memory. */
const KEPT_BYTES = 4 * 1024 * 1024;

/**
 * `values` packed one after the other behind `reserved` bytes left for the caller's header, in a
 * buffer of their own, with where each value's bytes end; undefined when one of them holds what
 * JSON's types do not cover (see {@link Writer.write}). `depth` is each value's nesting: 0 when
 * each is a value of its own, as `isJsonData` counts.
 */
export function packJsonEach(values: readonly unknown[], reserved: number, depth: number): { bytes: Buffer; ends: number[] } | undefined {
  // A getter of one of the values may pack too: it gets a writer of its own.
  const writing = shared.busy ? new Writer() : shared;
  writing.busy = true;
  try {
    writing.start(reserved);
    const ends = new Array<number>(values.length);
    for (let i = 0; i < values.length; i++) {
      if (!writing.write(values[i], depth)) return undefined;
      ends[i] = writing.position;
    }
    return { bytes: writing.copy(), ends };
  } finally {
    writing.busy = false;
  }
}

/**
 * Writes into a scratch buffer kept between calls, copied out at the end: fresh memory for every
 * chunk (hundreds of kilobytes) cost more in page faults than the writing, four times more for
 * calls with long strings.
 */
class Writer {
  private buffer: Buffer = Buffer.allocUnsafe(FIRST_BYTES);
  private view: DataView = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  position = 0;
  busy = false;

  start(reserved: number): void {
    this.position = 0;
    this.ensure(reserved);
    this.position = reserved;
  }

  /** The bytes written, reserved ones first, in a buffer of their own. */
  copy(): Buffer {
    const bytes = Buffer.allocUnsafe(this.position);
    this.buffer.copy(bytes, 0, 0, this.position);
    if (this.buffer.length > KEPT_BYTES) this.replace(Buffer.allocUnsafe(FIRST_BYTES));
    return bytes;
  }

  /**
   * Appends `value` at nesting `depth`. False when it holds what JSON's types do not cover: the
   * bytes are then unfinished and must be dropped.
   */
  write(value: unknown, depth: number): boolean {
    switch (typeof value) {
      case 'string':
        return this.string(value);
      case 'number':
        return this.number(value);
      case 'boolean':
        this.byte(value ? 0xc3 : 0xc2);
        return true;
      case 'object':
        if (value === null) {
          this.byte(0xc0);
          return true;
        }
        if (depth === MAX_JSON_DEPTH) return false;
        return Array.isArray(value) ? this.array(value, depth + 1) : this.object(value, depth + 1);
      default:
        return false;
    }
  }

  private array(items: unknown[], depth: number): boolean {
    const count = items.length;
    this.ensure(5);
    if (count < 0x10) {
      this.buffer[this.position++] = 0x90 | count;
    } else if (count < 0x10000) {
      this.buffer[this.position] = 0xdc;
      this.view.setUint16(this.position + 1, count);
      this.position += 3;
    } else {
      this.buffer[this.position] = 0xdd;
      this.view.setUint32(this.position + 1, count);
      this.position += 5;
    }
    // A hole reads as undefined, which is refused.
    for (let i = 0; i < count; i++) if (!this.write(items[i], depth)) return false;
    return true;
  }

  private object(value: object, depth: number): boolean {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return false;
    this.ensure(3);
    const header = this.position;
    this.buffer[header] = 0xde;
    this.position += 3;
    let count = 0;
    for (const key in value) {
      // msgpack decoding drops a `__proto__` key, which JSON.parse keeps as an own property. More
      // keys than a 16-bit count holds are left to JSON too.
      if (key === '__proto__' || ++count > 0xffff) return false;
      if (!this.string(key) || !this.write((value as Record<string, unknown>)[key], depth)) return false;
    }
    this.view.setUint16(header + 1, count);
    return true;
  }

  private number(value: number): boolean {
    this.ensure(9);
    const at = this.position;
    if (Number.isInteger(value) && value >= -0x80000000 && value <= 0xffffffff) {
      if (value >= 0) {
        if (value < 0x80) {
          this.buffer[at] = value;
          this.position += 1;
        } else if (value < 0x100) {
          this.buffer[at] = 0xcc;
          this.buffer[at + 1] = value;
          this.position += 2;
        } else if (value < 0x10000) {
          this.buffer[at] = 0xcd;
          this.view.setUint16(at + 1, value);
          this.position += 3;
        } else {
          this.buffer[at] = 0xce;
          this.view.setUint32(at + 1, value);
          this.position += 5;
        }
      } else if (value >= -0x20) {
        this.buffer[at] = value & 0xff;
        this.position += 1;
      } else if (value >= -0x80) {
        this.buffer[at] = 0xd0;
        this.view.setInt8(at + 1, value);
        this.position += 2;
      } else if (value >= -0x8000) {
        this.buffer[at] = 0xd1;
        this.view.setInt16(at + 1, value);
        this.position += 3;
      } else {
        this.buffer[at] = 0xd2;
        this.view.setInt32(at + 1, value);
        this.position += 5;
      }
      return true;
    }
    if (!Number.isFinite(value)) return false;
    this.buffer[at] = 0xcb;
    this.view.setFloat64(at + 1, value);
    this.position += 9;
    return true;
  }

  /** False for a lone surrogate: it has no UTF-8 form (JSON escapes it). */
  private string(value: string): boolean {
    const chars = value.length;
    this.ensure(5 + 3 * chars);
    // The header's size is guessed from the characters, and corrected once the bytes are known.
    const guessed = headerSize(chars);
    const start = this.position + guessed;
    let bytes: number;
    if (chars < 0x40) {
      bytes = this.smallUtf8(value, start);
      if (bytes < 0) return false;
    } else {
      if (!value.isWellFormed()) return false;
      bytes = this.buffer.write(value, start, 'utf8');
    }
    const needed = headerSize(bytes);
    if (needed !== guessed) this.buffer.copyWithin(this.position + needed, start, start + bytes);
    const at = this.position;
    if (needed === 1) {
      this.buffer[at] = 0xa0 | bytes;
    } else if (needed === 2) {
      this.buffer[at] = 0xd9;
      this.buffer[at + 1] = bytes;
    } else if (needed === 3) {
      this.buffer[at] = 0xda;
      this.view.setUint16(at + 1, bytes);
    } else {
      this.buffer[at] = 0xdb;
      this.view.setUint32(at + 1, bytes);
    }
    this.position += needed + bytes;
    return true;
  }

  /** Writes a short string's UTF-8 at `start`: its byte count, or -1 for a lone surrogate. */
  private smallUtf8(value: string, start: number): number {
    const target = this.buffer;
    let at = start;
    for (let i = 0; i < value.length; i++) {
      let code = value.charCodeAt(i);
      if (code < 0x80) {
        target[at++] = code;
      } else if (code < 0x800) {
        target[at++] = 0xc0 | (code >> 6);
        target[at++] = 0x80 | (code & 0x3f);
      } else if ((code & 0xf800) !== 0xd800) {
        target[at++] = 0xe0 | (code >> 12);
        target[at++] = 0x80 | ((code >> 6) & 0x3f);
        target[at++] = 0x80 | (code & 0x3f);
      } else {
        const low = value.charCodeAt(i + 1);
        if (code > 0xdbff || (low & 0xfc00) !== 0xdc00) return -1;
        code = 0x10000 + ((code & 0x3ff) << 10) + (low & 0x3ff);
        i++;
        target[at++] = 0xf0 | (code >> 18);
        target[at++] = 0x80 | ((code >> 12) & 0x3f);
        target[at++] = 0x80 | ((code >> 6) & 0x3f);
        target[at++] = 0x80 | (code & 0x3f);
      }
    }
    return at - start;
  }

  private byte(value: number): void {
    this.ensure(1);
    this.buffer[this.position++] = value;
  }

  private ensure(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.position + bytes));
    this.buffer.copy(grown, 0, 0, this.position);
    this.replace(grown);
  }

  private replace(buffer: Buffer): void {
    this.buffer = buffer;
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
}

const shared = new Writer();

/** Bytes of a msgpack string header for a string of `length` bytes. */
function headerSize(length: number): number {
  return length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}
