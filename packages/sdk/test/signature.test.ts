// verifySignature / signPayload against Scrapfly's official TypeScript SDK (scrapfly-sdk 0.11.1) and the
// reference computation of the docs (HMAC-SHA256, secret as UTF-8, uppercase hex).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { verifySignature as scrapflyVerify } from 'scrapfly-sdk';
import { signPayload, verifySignature } from '../src/index.js';

// The reference of the seed document, as Node code: hmac.new(secret.encode('utf-8'), body, sha256).hexdigest().upper()
const reference = (body: Buffer, secret: string) =>
  createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex').toUpperCase();

const bodies: Buffer[] = [
  Buffer.alloc(0),
  Buffer.from('{"data": "example"}'),
  Buffer.from('héllo wörld ✓ 𝄞', 'utf8'),
  randomBytes(4096), // binary, like an image
];
const secrets = ['YOUR-WEBHOOK-SIGNING-SECRET', 's3cr3t', 'ünïcødé-secret-✓', ' spaces kept '];

describe('signPayload', () => {
  it('is HMAC-SHA256 of the raw bytes with the UTF-8 secret, as uppercase hex', () => {
    for (const body of bodies) {
      for (const secret of secrets) {
        const signature = signPayload(body, secret);
        assert.equal(signature, reference(body, secret));
        assert.match(signature, /^[0-9A-F]{64}$/);
      }
    }
  });

  it('signs a string as its UTF-8 bytes and a Uint8Array like a Buffer', () => {
    const text = 'héllo ✓';
    assert.equal(signPayload(text, 'k'), signPayload(Buffer.from(text, 'utf8'), 'k'));
    const bytes = new Uint8Array([1, 2, 3, 250]);
    assert.equal(signPayload(bytes, 'k'), signPayload(Buffer.from(bytes), 'k'));
  });

  it('refuses an empty secret', () => {
    assert.throws(() => signPayload('x', ''), TypeError);
  });
});

describe('verifySignature agrees with the official scrapfly-sdk', () => {
  it('the official SDK accepts what signPayload produces, upper and lower case', () => {
    for (const body of bodies) {
      for (const secret of secrets) {
        const upper = signPayload(body, secret);
        assert.equal(scrapflyVerify(body, upper, secret), true);
        assert.equal(scrapflyVerify(body, upper.toLowerCase(), secret), true);
      }
    }
  });

  it('accepts what the official SDK accepts, upper and lower case', () => {
    for (const body of bodies) {
      for (const secret of secrets) {
        const signature = reference(body, secret);
        assert.equal(scrapflyVerify(body, signature, secret), true, 'precondition: the SDK accepts it');
        assert.equal(verifySignature({ body, signature, secrets: secret }), true);
        assert.equal(verifySignature({ body, signature: signature.toLowerCase(), secrets: secret }), true);
        assert.equal(verifySignature({ body, signature, secrets: [secret] }), true);
      }
    }
  });

  it('both refuse a tampered body, a wrong secret and a tampered signature', () => {
    const body = Buffer.from('{"job":"a"}');
    const secret = 's3cr3t';
    const signature = signPayload(body, secret);
    const tampered = Buffer.from('{"job":"b"}');
    assert.equal(scrapflyVerify(tampered, signature, secret), false);
    assert.equal(verifySignature({ body: tampered, signature, secrets: secret }), false);
    assert.equal(scrapflyVerify(body, signature, 'other'), false);
    assert.equal(verifySignature({ body, signature, secrets: 'other' }), false);
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    assert.equal(scrapflyVerify(body, flipped, secret), false);
    assert.equal(verifySignature({ body, signature: flipped, secrets: secret }), false);
  });

  it('gives the same verdict on random pairs of bodies, secrets and signatures', () => {
    for (let i = 0; i < 200; i++) {
      const body = randomBytes(i % 50);
      const secret = randomBytes(8).toString('hex');
      const signedWith = i % 3 === 0 ? randomBytes(8).toString('hex') : secret;
      const signature = signPayload(i % 5 === 0 ? randomBytes(3) : body, signedWith);
      const cased = i % 2 === 0 ? signature : signature.toLowerCase();
      assert.equal(
        verifySignature({ body, signature: cased, secrets: secret }),
        scrapflyVerify(body, cased, secret),
      );
    }
  });
});

describe('verifySignature', () => {
  const body = Buffer.from('image bytes');
  const oldSecret = 'old-secret';
  const newSecret = 'new-secret';

  it('accepts any of several secrets (rotation)', () => {
    assert.equal(
      verifySignature({ body, signature: signPayload(body, oldSecret), secrets: [newSecret, oldSecret] }),
      true,
    );
    assert.equal(
      verifySignature({ body, signature: signPayload(body, newSecret), secrets: [newSecret, oldSecret] }),
      true,
    );
    assert.equal(
      verifySignature({ body, signature: signPayload(body, 'third'), secrets: [newSecret, oldSecret] }),
      false,
    );
    assert.equal(verifySignature({ body, signature: signPayload(body, oldSecret), secrets: [] }), false);
    // Empty secrets are ignored, never matched.
    assert.equal(verifySignature({ body, signature: reference(body, ''), secrets: [''] }), false);
  });

  it('accepts a string body as UTF-8 and a Uint8Array', () => {
    const text = '{"ping":true,"é":1}';
    const signature = signPayload(Buffer.from(text, 'utf8'), 'k');
    assert.equal(verifySignature({ body: text, signature, secrets: 'k' }), true);
    assert.equal(
      verifySignature({ body: new Uint8Array(Buffer.from(text, 'utf8')), signature, secrets: 'k' }),
      true,
    );
  });

  it('returns false on garbage and never throws', () => {
    const good = signPayload(body, 'k');
    const garbage: unknown[] = [
      undefined,
      null,
      '',
      'not-hex',
      good.slice(0, 63),
      good + '0',
      good.slice(0, 62) + 'ZZ',
      'sha256=' + good,
      42,
      ['a'],
    ];
    for (const signature of garbage) {
      assert.equal(
        verifySignature({ body, signature: signature as string, secrets: 'k' }),
        false,
        String(signature),
      );
    }
    assert.equal(
      verifySignature({ body: undefined as unknown as Buffer, signature: good, secrets: 'k' }),
      false,
    );
    assert.equal(verifySignature({ body: 123 as unknown as Buffer, signature: good, secrets: 'k' }), false);
    assert.equal(verifySignature({ body, signature: good, secrets: undefined as unknown as string }), false);
    assert.equal(verifySignature(undefined as unknown as Parameters<typeof verifySignature>[0]), false);
  });
});
