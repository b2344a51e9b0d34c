/**
 * A msgpack extension for boxed primitives: `new Number(5)`, `new String('s')`, `new Boolean(false)`
 * and `Object(5n)` come back as the same kind of box holding the same value, as structuredClone
 * keeps them. Without it msgpackr writes a box as a plain object of its own properties: `{}`, or
 * `{0: 's'}`, and a boxed `false` arrives truthy. (A boxed Symbol cannot travel: inspect.ts refuses it.)
 *
 * Layout of the extension data: byte 0 is the kind; then a Number's float64 (little-endian, so -0
 * and NaN stay exact), a Boolean's 0 or 1, or a String's or BigInt's text in UTF-8 (a lone
 * surrogate becomes U+FFFD, as it does in any string msgpack carries).
 */
import { addExtension } from 'msgpackr';

/** Extension type byte; msgpackr's built-in extensions do not use it. */
const BOXED_PRIMITIVE_EXTENSION = 0x4f;

const NUMBER = 0;
const STRING = 1;
const BOOLEAN = 2;
const BIGINT = 3;

function packBox(box: object): Buffer {
  if (box instanceof Number) {
    const data = Buffer.allocUnsafe(9);
    data[0] = NUMBER;
    data.writeDoubleLE(box.valueOf(), 1);
    return data;
  }
  if (box instanceof Boolean) return Buffer.from([BOOLEAN, box.valueOf() ? 1 : 0]);
  const kind = box instanceof String ? STRING : BIGINT;
  const text = Buffer.from(String(box.valueOf()), 'utf8');
  const data = Buffer.allocUnsafe(1 + text.length);
  data[0] = kind;
  text.copy(data, 1);
  return data;
}

function unpackBox(data: Uint8Array): object {
  const fields = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  switch (data[0]) {
    case NUMBER:
      return new Number(fields.readDoubleLE(1));
    case BOOLEAN:
      return new Boolean(data[1] === 1);
    case STRING:
      return new String(fields.toString('utf8', 1));
    default:
      return Object(BigInt(fields.toString('latin1', 1))) as object;
  }
}

let registered = false;

export function registerBoxedPrimitiveExtension(): void {
  if (registered) return;
  registered = true;
  for (const Class of [Number, String, Boolean, BigInt]) {
    addExtension({ Class: Class as unknown as new () => object, type: BOXED_PRIMITIVE_EXTENSION, pack: packBox, unpack: unpackBox });
  }
}
