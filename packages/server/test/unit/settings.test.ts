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
