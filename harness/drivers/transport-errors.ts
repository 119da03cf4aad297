/**
 * Maps a transport error (a socket's, undici's, a client library's) to the error kind every
 * driver that talks over TCP records: `timeout`, `refused`, `reset` or `other`. Looks through
 * `cause` chains, a few levels deep.
 */
export function classifyError(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: string }).code;
    switch (code) {
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT':
      case 'UND_ERR_CONNECT_TIMEOUT':
      case 'ETIMEDOUT':
        return 'timeout';
      case 'ECONNREFUSED':
        return 'refused';
      case 'ECONNRESET':
      case 'EPIPE':
      case 'UND_ERR_SOCKET':
      case 'UND_ERR_CLOSED':
        return 'reset';
    }
    if (/timed out/i.test((e as Error).message ?? '')) return 'timeout';
    e = (e as { cause?: unknown }).cause;
  }
  return 'other';
}
