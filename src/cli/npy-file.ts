/**
 * A .npy file read in parts (Node only; src/io/npy.ts is the browser-safe whole-file reader): the
 * header once, then the rows a chunk needs with fs.readSync at their byte offsets, so that an
 * array larger than memory can be explained chunk by chunk.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readNpyHeader, type NpyHeader } from '../io/npy.js';
import { CliError } from './errors.js';

/** Enough for any header numpy writes below 64 KiB (version 1.0); longer ones are read again. */
const FIRST_READ = 4096;

export class NpyFile {
  private constructor(
    private fd: number | null,
    /** The file's path, for messages. */
    readonly file: string,
    /** The parsed header. */
    readonly header: NpyHeader,
  ) {}

  /** Opens `file` and reads its header; checks the data size against the shape. */
  static open(file: string): NpyFile {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      throw new CliError(`cannot read input ${file}: ${(e as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      let head = readAt(fd, 0, Math.min(size, FIRST_READ), file);
      let header: NpyHeader;
      try {
        header = readNpyHeader(head, file);
      } catch (e) {
        // a header longer than the first read (version 2.0/3.0 with a long shape): read it whole
        const needed = headerEnd(head);
        if (needed === null || needed <= head.length || needed > size) throw e;
        head = readAt(fd, 0, needed, file);
        header = readNpyHeader(head, file);
      }
      const available = size - header.dataStart;
      if (available !== header.dataBytes)
        throw new CliError(
          `${file}: ${available < header.dataBytes ? 'truncated data' : `${available - header.dataBytes} unexpected bytes after the data`}: shape (${header.shape.join(', ')}) needs ${header.dataBytes} bytes of data, the file has ${available}`,
        );
      if (header.fortran && header.shape.length > 1)
        throw new CliError(`${file}: Fortran-order (column-major) arrays cannot be read in chunks; save it in C order (numpy.ascontiguousarray)`);
      return new NpyFile(fd, file, header);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Number of rows (the first axis). */
  get rows(): number {
    return this.header.shape.length === 0 ? 1 : this.header.shape[0];
  }

  /** Values per row. */
  get rowSize(): number {
    return this.header.shape.slice(1).reduce((a, b) => a * b, 1);
  }

  /** Rows [start, start + count) as float32 values in C order. */
  readRows(start: number, count: number): Float32Array {
    if (this.fd === null) throw new CliError(`${this.file}: read after close`);
    if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= this.rows))
      throw new CliError(`${this.file}: rows ${start}..${start + count - 1} are outside its ${this.rows} rows`);
    const { itemSize, dataStart } = this.header;
    const values = count * this.rowSize;
    const bytes = readAt(this.fd, dataStart + start * this.rowSize * itemSize, values * itemSize, this.file);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Float32Array(values);
    if (itemSize === 4) for (let i = 0; i < values; i++) out[i] = view.getFloat32(4 * i, true);
    else for (let i = 0; i < values; i++) out[i] = view.getFloat64(8 * i, true);
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** The byte where the header ends, from the version and the header length field; null if unknown. */
function headerEnd(head: Uint8Array): number | null {
  if (head.length < 12) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return head[6] === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
}

/** Exactly `length` bytes at `position` (readSync may return fewer at a time). */
function readAt(fd: number, position: number, length: number, file: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  try {
    while (done < length) {
      const n = readSync(fd, out, done, length - done, position + done);
      if (n === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
      done += n;
    }
  } catch (e) {
    throw new CliError(`cannot read input ${file}: ${(e as Error).message}`);
  }
  return out;
}
