/**
 * Where a chunk of calls is assembled (PayloadCodec `chunkOf`, `chunkOfEncoded`): a msgpack array
 * header, then each call's argument list packed on its own. One buffer is kept and reused, as
 * msgpackr's is for the other payloads: a fresh one per chunk (a cluster node's are 100-150 KB) was
 * zeroed and page-faulted in every time (in a perf profile of four quarter-core nodes, a sixth of
 * their main threads' page faults, which took a tenth of those threads' time). A chunk held across
 * a submission's drain moves out of it when something else is encoded (unstored-payload.ts).
 */

/** The longest msgpack array header a chunk has (an array32). */
export const MAX_CHUNK_HEADER_BYTES = 5;

/** The size of the msgpack array header of a chunk of `count` calls: a fixarray, an array16 or an array32. */
export function chunkHeaderBytes(count: number): number {
  return count < 16 ? 1 : count < 0x10000 ? 3 : MAX_CHUNK_HEADER_BYTES;
}

export class ChunkBuffer {
  /**
   * A plain Uint8Array, not a Buffer: the codec copies a chunk out with `slice`, which a Buffer
   * answers with a view.
   */
  private kept = new Uint8Array(4096);

  /** @param maxKept the largest buffer kept for the next chunk; a larger chunk gets one of its own. */
  constructor(private readonly maxKept: number) {}

  /** A buffer of at least `length` bytes for a chunk of `count` calls, its array header written. */
  take(count: number, length: number): Uint8Array {
    let chunk = this.kept;
    if (length > chunk.length) {
      chunk = new Uint8Array(Math.max(length, Math.min(2 * chunk.length, this.maxKept)));
      if (chunk.length <= this.maxKept) this.kept = chunk;
    }
    writeHeader(chunk, count);
    return chunk;
  }
}

function writeHeader(chunk: Uint8Array, count: number): void {
  if (count < 16) {
    chunk[0] = 0x90 | count;
  } else if (count < 0x10000) {
    chunk[0] = 0xdc;
    chunk[1] = count >>> 8;
    chunk[2] = count & 0xff;
  } else {
    chunk[0] = 0xdd;
    chunk[1] = count >>> 24;
    chunk[2] = (count >>> 16) & 0xff;
    chunk[3] = (count >>> 8) & 0xff;
    chunk[4] = count & 0xff;
  }
}
