// The task of bench/transfer.mjs, for viscose and piscina alike: it reads the length of the buffer
// it was handed and returns it (nothing large goes back).
export function length(buffer) {
  return buffer.byteLength;
}
