// The signed copy: a pass-through in the message path that also writes what goes to the next hop
// into a file of the state directory. The message path waits on the disk only as any stream
// waits on a slow reader (the file's own buffer, bounded), and never on a failed or stalled disk:
// a write error, a stall or a message over the size bound abandons the copy, and the bytes keep
// flowing to the next hop as if there were no copy.
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';

export type CopyAbandoned = 'too-large' | 'disk-error' | 'disk-stalled' | 'message-failed';

export type CopyResult = { readonly ok: true; readonly bytes: number } | { readonly ok: false; readonly reason: CopyAbandoned };

export interface SignedCopyOptions {
  /** The file written (created exclusively, mode 0600). */
  readonly path: string;
  /** Larger messages are not copied. */
  readonly maxBytes: number;
  /** A write the disk has not taken within this time abandons the copy (default 5 s). */
  readonly stallMs?: number;
}

/** One message's signed copy while it is written. */
export class SignedCopy {
  /** Put this in the message path: what is written to it is passed on unchanged. */
  readonly stream: Transform;
  readonly path: string;
  private file: WriteStream | undefined;
  private bytes = 0;
  private abandoned: CopyAbandoned | undefined;
  private readonly result: Promise<CopyResult>;
  private settle!: (r: CopyResult) => void;

  constructor(private readonly o: SignedCopyOptions) {
    this.path = o.path;
    this.result = new Promise((resolve) => (this.settle = resolve));
    this.file = createWriteStream(o.path, { flags: 'wx', mode: 0o600, highWaterMark: 256 * 1024 });
    this.file.on('error', () => this.abandon('disk-error'));
    this.stream = new Transform({
      highWaterMark: 64 * 1024,
      transform: (chunk: Buffer, _enc, cb) => this.onChunk(chunk, cb),
      flush: (cb) => {
        this.finish();
        // the message path goes on at once: the file closes on its own
        cb();
      },
    });
    // a message that failed on the way (the relay destroys its stream) leaves no copy
    this.stream.on('close', () => {
      if (!this.stream.writableFinished) this.abandon('message-failed');
    });
  }

  /** Resolves once the file is complete and closed, or the copy was abandoned (its file removed). */
  done(): Promise<CopyResult> {
    return this.result;
  }

  /** Gives the copy up (the message was not signed, or not delivered) and removes its file. */
  async discard(): Promise<void> {
    this.abandon('message-failed');
    await this.result;
  }

  private onChunk(chunk: Buffer, cb: TransformCallback): void {
    this.stream.push(chunk);
    const file = this.file;
    if (!file || this.abandoned) return cb();
    this.bytes += chunk.length;
    if (this.bytes > this.o.maxBytes) {
      this.abandon('too-large');
      return cb();
    }
    if (file.write(chunk)) return cb();
    // the disk is behind: wait for it, but not forever
    const stall = setTimeout(() => {
      this.abandon('disk-stalled');
      go();
    }, this.o.stallMs ?? 5000);
    let gone = false;
    const go = (): void => {
      if (gone) return;
      gone = true;
      clearTimeout(stall);
      file.off('drain', go);
      file.off('close', go);
      cb();
    };
    file.once('drain', go);
    file.once('close', go);
  }

  private finish(): void {
    const file = this.file;
    if (!file || this.abandoned) return;
    // complete only once every byte is on disk and the file closed; an error on the way abandons it
    file.once('finish', () => file.once('close', () => {
      if (!this.abandoned) this.settle({ ok: true, bytes: this.bytes });
    }));
    file.end();
  }

  private abandon(reason: CopyAbandoned): void {
    if (this.abandoned) return;
    this.abandoned = reason;
    const file = this.file;
    this.file = undefined;
    const removed = (): void => {
      void rm(this.o.path, { force: true }).then(
        () => this.settle({ ok: false, reason }),
        () => this.settle({ ok: false, reason }),
      );
    };
    if (!file || file.closed) return removed();
    file.once('close', removed);
    file.destroy();
  }
}
