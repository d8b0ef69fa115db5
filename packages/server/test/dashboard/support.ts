import assert from 'node:assert/strict';

export const ADMIN_PASSWORD = 'correct-horse-battery-staple';

/** Signs in with plain HTTP (the sign-in form's double-submit token included); returns the session cookie and CSRF token. */
export async function signIn(baseUrl: string, password = ADMIN_PASSWORD, username = 'admin') {
  const form = await fetch(`${baseUrl}/dashboard/login`);
  const loginCookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const token = /name="_login" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  assert.ok(token, 'the sign-in form carries a token');
  const response = await fetch(`${baseUrl}/dashboard/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
    body: new URLSearchParams({ _login: token, username, password, next: '/dashboard' }).toString(),
  });
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('snapwire_session=')) ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  let csrf = '';
  if (response.status === 303) {
    const page = await fetch(`${baseUrl}/dashboard/webhooks`, { headers: { cookie }, redirect: 'follow' });
    csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  }
  return { response, setCookie, cookie, csrf };
}

export async function postForm(
  baseUrl: string,
  path: string,
  fields: Record<string, string>,
  cookie?: string,
) {
  return fetch(`${baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
}
