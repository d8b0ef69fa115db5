import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { AuditLog, migrateToLatest, openStore, systemClock, TeamStore } from '@snapwire/server';

const run = promisify(execFile);
const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'snapwire.js');

describe('snapwire users (CLI on the embedded store)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-cli-users-'));
  const mails: string[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8'));
        done();
      });
    },
  });
  let env: NodeJS.ProcessEnv = {};
  const cli = async (...args: string[]) => run(process.execPath, [CLI, ...args], { env, timeout: 30_000 });
  const cliFails = async (...args: string[]) => {
    try {
      await cli(...args);
    } catch (error) {
      return error as { code: number; stderr: string };
    }
    assert.fail(`snapwire ${args.join(' ')} should have failed`);
  };
  const list = async () =>
    JSON.parse((await cli('users', 'list', '--json')).stdout) as Array<{
      user: string;
      role: string;
      projects: string[];
    }>;

  before(async () => {
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as { port: number }).port;
    env = {
      ...process.env,
      SNAPWIRE_DATA_DIR: dataDir,
      SNAPWIRE_LOG_LEVEL: 'silent',
      SNAPWIRE_SMTP_URL: `smtp://127.0.0.1:${port}`,
      SNAPWIRE_PUBLIC_URL: 'https://snapwire.example',
    };
    await cli('admin', 'reset-password', '--create-store');
    await cli('projects', 'create', 'acme');
  });
  after(async () => {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('invites (link printed and mailed), lists, changes a role, keeps the last owner, removes', async () => {
    assert.deepEqual(await list(), [{ user: 'admin', name: null, role: 'owner', projects: ['*'] }]);
    const invited = JSON.parse(
      (await cli('users', 'invite', 'Vera@Example.com', '--role', 'viewer', '--projects', 'acme', '--json'))
        .stdout,
    );
    assert.equal(invited.email, 'vera@example.com');
    assert.equal(invited.mailed, true);
    assert.match(invited.link, /^https:\/\/snapwire\.example\/dashboard\/accept\?token=/);
    assert.ok(
      mails.some((mail) =>
        mail
          .replace(/=\r?\n/g, '')
          .replace(/=3D/g, '=')
          .includes(invited.link),
      ),
      'the link was mailed',
    );

    const store = await openStore({ dataDir });
    try {
      await migrateToLatest(store);
      const token = new URL(invited.link).searchParams.get('token') ?? '';
      await new TeamStore(store.db, systemClock, store.dialect).accept(token, 'Vera', 'vera-password-123');
    } finally {
      await store.close();
    }
    assert.deepEqual(
      (await list()).find((u) => u.user === 'vera@example.com'),
      { user: 'vera@example.com', name: 'Vera', role: 'viewer', projects: ['acme'] },
    );

    assert.equal(
      (await cli('users', 'set-role', 'VERA@example.com', 'developer')).stdout,
      'VERA@example.com is now developer.\n',
    );
    assert.equal((await list()).find((u) => u.user === 'vera@example.com')?.role, 'developer');
    const lastOwner = await cliFails('users', 'set-role', 'admin', 'viewer');
    assert.equal(lastOwner.code, 1);
    assert.match(lastOwner.stderr, /last owner/);
    assert.match(
      (await cliFails('users', 'invite', 'VERA@example.com', '--role', 'viewer')).stderr,
      /already a member/,
    );
    assert.match(
      (await cliFails('users', 'set-role', 'vera@example.com', 'boss')).stderr,
      /owner, admin, developer, viewer/,
    );

    await cli('users', 'remove', 'vera@example.com');
    assert.deepEqual(
      (await list()).map((u) => u.user),
      ['admin'],
    );
  });

  it('audits what the commands change on the store, as cli:USER (users, admin, projects)', async () => {
    await cli('users', 'invite', 'otto@example.com', '--role', 'developer', '--projects', 'acme');
    await cli('users', 'set-role', 'admin', 'owner');
    await cli('admin', 'reset-password', '--password', 'a-new-admin-password-1');
    await cli('projects', 'create', 'globex', '--plan', 'PRO');
    await cli('projects', 'set', 'globex', '--plan', 'STARTUP');
    await cli('projects', 'set', 'globex', '--limit', 'concurrency=3');
    await cli('projects', 'rotate-key', 'globex', '--env', 'test');
    // Made in the first test: the invitation, the role change and the removal of vera.
    const store = await openStore({ dataDir });
    let rows: Awaited<ReturnType<AuditLog['list']>>;
    try {
      rows = (await new AuditLog(store.db, systemClock).list({}, 100)).reverse();
    } finally {
      await store.close();
    }
    const actor = `cli:${os.userInfo().username}`;
    assert.ok(rows.length > 0 && rows.every((row) => row.actor === actor && row.sourceAddress === 'cli'));
    const globex = rows.find((row) => row.action === 'project_created' && row.target === 'globex')?.projectId;
    assert.ok(globex, "the new project is the row's project");
    assert.deepEqual(
      rows.map((row) => [row.action, row.target, row.detail]),
      [
        ['admin_password_reset', 'admin', { generated: true }],
        ['project_created', 'acme', { plan: 'UNLIMITED', keys: ['LIVE', 'TEST'] }],
        ['user_invited', 'vera@example.com', { role: 'viewer', projects: 1 }],
        ['user_role_changed', 'VERA@example.com', { role: 'developer' }],
        ['user_removed', 'vera@example.com', null],
        ['user_invited', 'otto@example.com', { role: 'developer', projects: 1 }],
        ['user_role_changed', 'admin', { role: 'owner' }],
        ['admin_password_reset', 'admin', { generated: false }],
        ['project_created', 'globex', { plan: 'PRO', keys: ['LIVE', 'TEST'] }],
        ['plan_changed', 'globex', { plan: 'STARTUP' }],
        ['project_updated', 'globex', { plan: 'STARTUP', limits: { concurrency: 3 } }],
        ['key_rotated', 'globex/TEST', null],
      ],
    );
    assert.ok(
      rows.filter((row) => row.target?.startsWith('globex')).every((row) => row.projectId === globex),
    );
    assert.ok(!JSON.stringify(rows).includes('a-new-admin-password-1'), 'never the password');
  });
});
