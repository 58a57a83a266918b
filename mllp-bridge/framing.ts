/**
 * MLLP (HL7 v2 Minimal Lower Layer Protocol, release 2): each message travels as
 * <VT> message <FS><CR>. A TCP stream may split a frame across chunks or carry several frames in one;
 * bytes outside a frame are ignored, as receivers conventionally do.
 */
export const START_BLOCK = 0x0b;
export const END_BLOCK = 0x1c;
export const CARRIAGE_RETURN = 0x0d;

/** Frames one message for the wire. */
export function frame(message: Buffer | string): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  return Buffer.concat([Buffer.of(START_BLOCK), body, Buffer.of(END_BLOCK, CARRIAGE_RETURN)]);
}

export class FrameTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`MLLP frame larger than ${limit} bytes`);
    this.name = 'FrameTooLargeError';
  }
}

/**
 * Incremental decoder: `push` a chunk, get the messages it completes. A frame over `maxBytes` throws
 * FrameTooLargeError (the connection should be answered and closed: the rest of the stream cannot be trusted).
 */
export class MllpDecoder {
  private parts: Buffer[] = [];
  private size = 0;
  private inFrame = false;
  /** The previous chunk ended with FS: a CR at the start of the next one completes the frame. */
  private pendingEnd = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): Buffer[] {
    const messages: Buffer[] = [];
    let i = 0;
    if (this.pendingEnd) {
      this.pendingEnd = false;
      if (chunk[0] === CARRIAGE_RETURN) {
        messages.push(this.take());
        i = 1;
      } else {
        this.append(Buffer.of(END_BLOCK)); // a lone FS inside the message: keep it as data
      }
    }
    while (i < chunk.length) {
      if (!this.inFrame) {
        const start = chunk.indexOf(START_BLOCK, i);
        if (start < 0) break;
        this.inFrame = true;
        i = start + 1;
        continue;
      }
      const end = chunk.indexOf(END_BLOCK, i);
      if (end < 0) {
        this.append(chunk.subarray(i));
        break;
      }
      if (end === chunk.length - 1) {
        this.append(chunk.subarray(i, end));
        this.pendingEnd = true;
        break;
      }
      if (chunk[end + 1] === CARRIAGE_RETURN) {
        this.append(chunk.subarray(i, end));
        messages.push(this.take());
        i = end + 2;
      } else {
        this.append(chunk.subarray(i, end + 1));
        i = end + 1;
      }
    }
    return messages;
  }

  /** Bytes of an unfinished frame (for diagnostics). */
  get buffered(): number {
    return this.size;
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.size += bytes.length;
    if (this.size > this.maxBytes) {
      this.parts = [];
      this.size = 0;
      this.inFrame = false;
      throw new FrameTooLargeError(this.maxBytes);
    }
    this.parts.push(bytes);
  }

  private take(): Buffer {
    const message = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    this.inFrame = false;
    return message;
  }
}
