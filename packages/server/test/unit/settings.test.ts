import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../../src/config/settings.js';

describe('settings', () => {
  it('has the documented defaults', () => {
    const settings = loadSettings({});
    assert.equal(settings.port, 8080);
    assert.equal(settings.dataDir, path.resolve('./data'));
    assert.equal(settings.databaseUrl, undefined);
    assert.equal(settings.publicUrl, 'http://localhost:8080');
    assert.deepEqual(settings.allowedNetworks, []);
    assert.equal(settings.jobLeaseMs, 20_000, "a dead process's jobs run again after 20 s");
  });

  it('reads the job lease and refuses one too short to renew', () => {
    assert.equal(loadSettings({ SNAPWIRE_JOB_LEASE: '4s' }).jobLeaseMs, 4_000);
    assert.throws(
      () => loadSettings({ SNAPWIRE_JOB_LEASE: '500ms' }),
      (error: unknown) => error instanceof SettingsError && /SNAPWIRE_JOB_LEASE/.test(error.message),
    );
  });

  it('parses the allow-list and trims the public URL', () => {
    const settings = loadSettings({
      SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.0/8, ::1/128,10.1.2.3',
      SNAPWIRE_PUBLIC_URL: 'https://shots.example.com/',
    });
    assert.deepEqual(
      settings.allowedNetworks.map(([address, prefix]) => `${address.toString()}/${prefix}`),
      ['127.0.0.0/8', '::1/128', '10.1.2.3/32'],
    );
    assert.equal(settings.publicUrl, 'https://shots.example.com');
  });

  it('refuses bad values and names each bad setting', () => {
    assert.throws(
      () =>
        loadSettings({
          PORT: 'eighty',
          SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.0/33',
          DATABASE_URL: 'mysql://x',
        }),
      (error: unknown) => {
        assert.ok(error instanceof SettingsError);
        assert.match(error.message, /PORT/);
        assert.match(
          error.message,
          /SNAPWIRE_ALLOWED_NETWORKS: "127.0.0.0\/33" is not an IP address or CIDR range/,
        );
        assert.match(error.message, /DATABASE_URL: must be a postgres:\/\/ URL/);
        return true;
      },
    );
  });

  it('refuses a bootstrap key that is too short to be a secret', () => {
    assert.throws(
      () => loadSettings({ SNAPWIRE_BOOTSTRAP_LIVE_KEY: 'short' }),
      /SNAPWIRE_BOOTSTRAP_LIVE_KEY: must be at least 16/,
    );
  });
});

describe('fleet settings', () => {
  it('defaults to role all, the local blob store and a node id from host and pid', () => {
    const settings = loadSettings({});
    assert.equal(settings.role, 'all');
    assert.deepEqual(settings.blobStore, { kind: 'local' });
    assert.match(settings.nodeId, new RegExp(`-${process.pid}$`));
    assert.equal(settings.s3Presign, false);
    assert.equal(settings.awsCredentials, undefined);
  });

  it('parses an S3 location, endpoint, path style, presigning and credentials', () => {
    const settings = loadSettings({
      SNAPWIRE_ROLE: 'worker',
      SNAPWIRE_NODE_ID: 'shots-2',
      SNAPWIRE_BLOB_STORE: 's3://my-bucket/snapwire/prod/',
      SNAPWIRE_S3_ENDPOINT: 'http://127.0.0.1:9000',
      SNAPWIRE_S3_FORCE_PATH_STYLE: 'true',
      SNAPWIRE_S3_PRESIGN: 'true',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    assert.equal(settings.role, 'worker');
    assert.equal(settings.nodeId, 'shots-2');
    assert.deepEqual(settings.blobStore, { kind: 's3', bucket: 'my-bucket', prefix: 'snapwire/prod' });
    assert.equal(settings.s3Endpoint, 'http://127.0.0.1:9000');
    assert.equal(settings.s3ForcePathStyle, true);
    assert.equal(settings.awsRegion, 'eu-west-1');
    assert.deepEqual(settings.awsCredentials, { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' });
    assert.deepEqual(loadSettings({ SNAPWIRE_BLOB_STORE: 's3://bucket' }).blobStore, {
      kind: 's3',
      bucket: 'bucket',
      prefix: '',
    });
  });

  it('refuses bad fleet settings with a message naming each', () => {
    assert.throws(
      () =>
        loadSettings({
          SNAPWIRE_ROLE: 'api',
          SNAPWIRE_NODE_ID: 'a b',
          SNAPWIRE_BLOB_STORE: 'gs://bucket',
          SNAPWIRE_S3_ENDPOINT: 'not a url',
        }),
      (error: unknown) => {
        assert.ok(error instanceof SettingsError);
        assert.match(error.message, /SNAPWIRE_ROLE/);
        assert.match(error.message, /SNAPWIRE_NODE_ID: must be 1-64 letters/);
        assert.match(
          error.message,
          /SNAPWIRE_BLOB_STORE: "gs:\/\/bucket" is neither "local" nor an S3 location/,
        );
        assert.match(error.message, /SNAPWIRE_S3_ENDPOINT/);
        return true;
      },
    );
    assert.throws(
      () => loadSettings({ SNAPWIRE_S3_PRESIGN: 'true' }),
      /SNAPWIRE_S3_PRESIGN: needs SNAPWIRE_BLOB_STORE=s3/,
    );
    assert.throws(() => loadSettings({ AWS_ACCESS_KEY_ID: 'x' }), /set both or neither/);
  });
});
