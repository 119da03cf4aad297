import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { grpcFrame, MessageReader, statusOfHttp, statusOfReset } from './grpc-http2.ts';
import { rpcGrpcAdapter } from './rpc-grpc-adapter.ts';

/** Messages the reader hands out for `chunks`, as strings. */
function read(chunks: Buffer[]): { messages: string[]; partial: number } {
  const reader = new MessageReader();
  const messages: string[] = [];
  for (const c of chunks) reader.push(c, (m) => messages.push(m.toString()));
  return { messages, partial: reader.partial };
}

describe('the http2 gRPC engine', () => {
  it('reads length-prefixed messages whatever the chunk boundaries, one byte at a time too', () => {
    const wire = Buffer.concat([grpcFrame(Buffer.from('first')), grpcFrame(Buffer.from('')), grpcFrame(Buffer.from('third one'))]);
    // 5 + 5, 5 + 0, 5 + 9 bytes.
    expect(wire.length).toBe(29);
    const whole = read([wire]);
    expect(whole).toEqual({ messages: ['first', '', 'third one'], partial: 0 });
    const bytes = read([...wire].map((b) => Buffer.from([b])));
    expect(bytes).toEqual(whole);
    const split = read([wire.subarray(0, 7), wire.subarray(7, 12), wire.subarray(12)]);
    expect(split).toEqual(whole);
    // A message cut short stays pending: 20 - 15 bytes of the third.
    expect(read([wire.subarray(0, 20)])).toEqual({ messages: ['first', ''], partial: 5 });
  });

  it('gunzips a message flagged compressed and refuses an unknown flag or a message over 4 MiB', () => {
    const body = gzipSync('squeezed');
    const frame = Buffer.concat([Buffer.from([1, 0, 0, 0, body.length]), body]);
    expect(read([frame]).messages).toEqual(['squeezed']);
    expect(() => read([Buffer.from([2, 0, 0, 0, 1, 65])])).toThrow('compressed-flag 2');
    expect(() => read([Buffer.from([0, 0, 0x40, 0, 1])])).toThrow('over the 4194304-byte limit');
  });

  it('maps HTTP statuses and stream resets to gRPC codes as the gRPC documents say', () => {
    expect([400, 401, 403, 404, 429, 502, 503, 504, 500].map(statusOfHttp)).toEqual([13, 16, 7, 12, 14, 14, 14, 14, 2]);
    // REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM, INADEQUATE_SECURITY, PROTOCOL_ERROR.
    expect([0x7, 0x8, 0xb, 0xc, 0x1].map(statusOfReset)).toEqual([14, 1, 8, 7, 13]);
  });

  it('is a client option of the gRPC adapter, refused with compressed requests', () => {
    expect(rpcGrpcAdapter.client.parse({ engine: 'http2', channels: 2 })).toEqual({ engine: 'http2', channels: 2 });
    const r = rpcGrpcAdapter.client.safeParse({ engine: 'http2', compression: 'gzip' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe("engine 'http2' sends requests uncompressed: use engine 'grpc-js' for compression 'gzip'");
    expect(rpcGrpcAdapter.client.safeParse({ engine: 'grpc-go' }).success).toBe(false);
  });
});
