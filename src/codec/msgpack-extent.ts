/**
 * Where msgpack values end, read from their type bytes and lengths without decoding them. A
 * cluster client packs a chunk's argument lists as one msgpack list, which msgpackr encodes about
 * a third faster than list by list, and then finds each list's bytes within it
 * (bullmq/packing.ts).
 *
 * Reads the types JSON-like data takes (nil, booleans, integers, floats, strings, binary, lists
 * and maps) and refuses extension types: msgpackr writes some of its extensions as a header
 * followed by a value of their own, so where they end depends on the extensions registered.
 */

/** The elements of the msgpack list at `bytes[start, end)`: where the first starts, and where each ends. */
export function elementsOf(bytes: Uint8Array, start: number, end: number): { first: number; ends: number[] } {
  const type = bytes[start];
  let count: number;
  let first: number;
  if (type >= 0x90 && type <= 0x9f) {
    count = type & 0x0f;
    first = start + 1;
  } else if (type === 0xdc) {
    count = uint16(bytes, start + 1);
    first = start + 3;
  } else if (type === 0xdd) {
    count = uint32(bytes, start + 1);
    first = start + 5;
  } else {
    throw new RangeError(`byte ${start} does not start a msgpack list (type 0x${type?.toString(16)})`);
  }
  const ends = new Array<number>(count);
  let at = first;
  for (let i = 0; i < count; i++) {
    at = endOfValue(bytes, at);
    if (at > end) throw new RangeError(`element ${i} of the msgpack list at byte ${start} runs past byte ${end}`);
    ends[i] = at;
  }
  if (at !== end) throw new RangeError(`the msgpack list at byte ${start} ends at byte ${at}, not ${end}`);
  return { first, ends };
}

/** Where the msgpack value that starts at `start` ends. */
export function endOfValue(bytes: Uint8Array, start: number): number {
  let at = start;
  // Values still to pass: a list or a map adds its elements (a map two per entry).
  let pending = 1;
  while (pending > 0) {
    pending--;
    if (at >= bytes.length) throw new RangeError(`a msgpack value from byte ${start} runs past the end of its ${bytes.length} bytes`);
    const type = bytes[at++];
    if (type <= 0x7f || type >= 0xe0) continue; // positive and negative fixint
    if (type <= 0x8f)
      pending += 2 * (type & 0x0f); // fixmap
    else if (type <= 0x9f)
      pending += type & 0x0f; // fixarray
    else if (type <= 0xbf)
      at += type & 0x1f; // fixstr
    else if (type === 0xdc || type === 0xde) {
      // array 16, map 16
      pending += (type === 0xde ? 2 : 1) * uint16(bytes, at);
      at += 2;
    } else if (type === 0xdd || type === 0xdf) {
      // array 32, map 32
      pending += (type === 0xdf ? 2 : 1) * uint32(bytes, at);
      at += 4;
    } else at = afterScalar(bytes, at, type);
  }
  if (at > bytes.length) throw new RangeError(`a msgpack value from byte ${start} runs past the end of its ${bytes.length} bytes`);
  return at;
}

/** Past a value of the types 0xc0 to 0xdb, not a list or map, whose type byte was before `at`. */
function afterScalar(bytes: Uint8Array, at: number, type: number): number {
  switch (type) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      return at;
    case 0xcc: // uint 8
    case 0xd0: // int 8
      return at + 1;
    case 0xcd: // uint 16
    case 0xd1: // int 16
      return at + 2;
    case 0xca: // float 32
    case 0xce: // uint 32
    case 0xd2: // int 32
      return at + 4;
    case 0xcb: // float 64
    case 0xcf: // uint 64
    case 0xd3: // int 64
      return at + 8;
    case 0xc4: // bin 8
    case 0xd9: // str 8
      return at + 1 + bytes[at];
    case 0xc5: // bin 16
    case 0xda: // str 16
      return at + 2 + uint16(bytes, at);
    case 0xc6: // bin 32
    case 0xdb: // str 32
      return at + 4 + uint32(bytes, at);
    case 0xc7: // ext 8, 16, 32
    case 0xc8:
    case 0xc9:
    case 0xd4: // fixext 1, 2, 4, 8, 16
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
      throw new RangeError(`byte ${at - 1} starts a msgpack extension (0x${type.toString(16)}), which is not read here`);
    default: // 0xc1: never used
      throw new RangeError(`byte ${at - 1} holds 0x${type.toString(16)}, which is not a msgpack type`);
  }
}

function uint16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

function uint32(bytes: Uint8Array, at: number): number {
  return bytes[at] * 0x1000000 + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]);
}
