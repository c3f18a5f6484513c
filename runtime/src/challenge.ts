// Python's connection.deliver_challenge / answer_challenge: the HMAC challenge-response over anything
// with recvBytes/sendBytes (a Connection, a Client's socket…), byte for byte as CPython 3.12+ sends it
// ('#CHALLENGE#{sha256}' + 40 random bytes, answered '{sha256}' + HMAC, then '#WELCOME#' or '#FAILURE#').
// Listener/Client use the manager's handshake instead (managers/wire.ts); these are for programs that
// authenticate a connection themselves. Node's crypto only.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthenticationError, ValueError } from './errors';

/** What the challenge reads and writes through: a Connection, or anything shaped like one. */
export interface ChallengeConnection {
  recvBytes(maxlength?: number): Promise<Uint8Array>;
  sendBytes(buf: Uint8Array): Promise<void>;
}

const CHALLENGE = Buffer.from('#CHALLENGE#');
const WELCOME = Buffer.from('#WELCOME#');
const FAILURE = Buffer.from('#FAILURE#');
const MESSAGE_LENGTH = 40;
/** Python 3.11 and older send a bare 20-byte challenge and answer with a bare 16-byte MD5. */
const MD5_ONLY_MESSAGE_LENGTH = 20;
const MD5_DIGEST_LENGTH = 16;
/** Python's _ALLOWED_DIGESTS, with the name Node's crypto knows each by. */
const DIGESTS: Record<string, string> = { md5: 'md5', sha256: 'sha256', sha384: 'sha384', sha3_256: 'sha3-256', sha3_384: 'sha3-384' };

function keyOf(authkey: Uint8Array | string): Buffer {
  if (typeof authkey === 'string') return Buffer.from(authkey, 'utf8');
  if (authkey instanceof Uint8Array) return Buffer.from(authkey);
  throw new ValueError(`authkey should be a Buffer, a Uint8Array or a string, not ${typeof authkey}`);
}

/** `{name}payload` → [name, payload]; a bare legacy length is MD5. Python: _get_digest_name_and_payload */
function digestAndPayload(message: Buffer): [string, Buffer] {
  if (message.length === MD5_ONLY_MESSAGE_LENGTH || message.length === MD5_DIGEST_LENGTH) return ['md5', message];
  if (message[0] === 0x7b /* { */) {
    const curly = message.indexOf(0x7d /* } */, 1);
    const name = curly > 0 ? message.subarray(1, curly).toString('latin1') : '';
    if (name in DIGESTS) return [name, message.subarray(curly + 1)];
  }
  throw new AuthenticationError(`unsupported message length, missing digest prefix, or unsupported digest: message of ${message.length} bytes`);
}

function hmac(key: Buffer, message: Buffer, name: string): Buffer {
  return createHmac(DIGESTS[name]!, key).update(message).digest();
}

/**
 * Sends a random challenge, checks the peer's HMAC of it under `authkey`, and tells the peer the result;
 * rejects AuthenticationError when the answer is wrong. Python: multiprocessing.connection.deliver_challenge
 */
export async function deliverChallenge(conn: ChallengeConnection, authkey: Uint8Array | string, digestName = 'sha256'): Promise<void> {
  const key = keyOf(authkey);
  if (!(digestName in DIGESTS) || digestName === 'md5')
    throw new ValueError(
      `digestName must be one of ${Object.keys(DIGESTS)
        .filter((d) => d !== 'md5')
        .join(', ')}, got ${String(digestName)}`,
    );
  const message = Buffer.concat([Buffer.from(`{${digestName}}`), randomBytes(MESSAGE_LENGTH)]);
  await conn.sendBytes(Buffer.concat([CHALLENGE, message]));
  const response = Buffer.from(await conn.recvBytes(256));
  try {
    const [name, mac] = digestAndPayload(response);
    const expected = hmac(key, message, name);
    if (expected.length !== mac.length) throw new AuthenticationError(`expected a ${name} digest of ${expected.length} bytes, got ${mac.length}`);
    if (!timingSafeEqual(expected, mac)) throw new AuthenticationError('digest received was wrong');
  } catch (error) {
    await conn.sendBytes(FAILURE);
    throw error;
  }
  await conn.sendBytes(WELCOME);
}

/**
 * Answers the peer's challenge with its HMAC under `authkey`; rejects AuthenticationError when the
 * message is not a challenge or the peer does not welcome the answer. Python: multiprocessing.connection.answer_challenge
 */
export async function answerChallenge(conn: ChallengeConnection, authkey: Uint8Array | string): Promise<void> {
  const key = keyOf(authkey);
  const received = Buffer.from(await conn.recvBytes(256));
  if (!received.subarray(0, CHALLENGE.length).equals(CHALLENGE))
    throw new AuthenticationError(`Protocol error, expected a challenge, got ${received.length} bytes`);
  const message = received.subarray(CHALLENGE.length);
  if (message.length < MD5_ONLY_MESSAGE_LENGTH) throw new AuthenticationError(`challenge too short: ${message.length} bytes`);
  const [name] = digestAndPayload(message);
  const mac = hmac(key, message, name);
  await conn.sendBytes(name === 'md5' && message.length === MD5_ONLY_MESSAGE_LENGTH ? mac : Buffer.concat([Buffer.from(`{${name}}`), mac]));
  const response = Buffer.from(await conn.recvBytes(256));
  if (!response.equals(WELCOME)) throw new AuthenticationError('digest sent was rejected');
}
