import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfInput, inlineError, postButton, textField } from '../components.js';
import type { DashboardPage } from '../context.js';
import { html } from '../html.js';
import { formOf } from '../session.js';

/**
 * Optional TOTP two-factor sign-in of the signed-in user (docs/dashboard.md, "Two-factor sign-in"):
 * set up (the secret as an otpauth:// URI and base32, confirmed with a code), ten recovery codes shown
 * once, turn off with the password.
 */
const page: DashboardPage = {
  nav: { key: 'two-factor', href: '/dashboard/two-factor', label: 'Two-factor' },
  register(app, ctx) {
    const { auth, twoFactor } = ctx.accounts;
    const userOf = (request: FastifyRequest) => ctx.session(request)?.username ?? '';

    const show = async (
      request: FastifyRequest,
      reply: FastifyReply,
      extra: { error?: string; codes?: string[]; status?: number } = {},
    ) => {
      const user = userOf(request);
      const csrf = ctx.csrf(request);
      const enabled = await twoFactor.enabled(user);
      const pending = enabled ? undefined : await twoFactor.pending(user);
      let body;
      if (extra.codes) {
        body = html`<p>
            Two-factor sign-in is on. Keep these recovery codes somewhere safe: each signs in once instead of
            a code, and they are not shown again.
          </p>
          <ul id="recovery-codes">
            ${extra.codes.map((code) => html`<li><code>${code}</code></li>`)}
          </ul>`;
      } else if (enabled) {
        body = html`<p id="two-factor-state">
            On. ${await twoFactor.remainingRecoveryCodes(user)} recovery codes left.
          </p>
          <h2>Turn off</h2>
          ${inlineError(extra.error)}
          <form method="post" action="/dashboard/two-factor/disable" class="filters" id="disable">
            ${csrfInput(csrf)} ${textField('Password', 'password', '', { type: 'password', required: true })}
            <button type="submit">Turn off two-factor</button>
          </form>`;
      } else if (pending) {
        body = html`<p id="two-factor-state">
            Being set up. Add this account to your authenticator app, then type the code it shows.
          </p>
          <p style="overflow-wrap:anywhere">
            Link: <a id="otpauth-uri" href="${pending.uri}">${pending.uri}</a>
          </p>
          <p style="overflow-wrap:anywhere">Secret (base32): <code id="secret">${pending.secret}</code></p>
          ${inlineError(extra.error)}
          <form method="post" action="/dashboard/two-factor/confirm" class="filters" id="confirm">
            ${csrfInput(csrf)} ${textField('Code', 'code', '', { required: true })}
            <button type="submit">Confirm</button>
          </form>`;
      } else {
        body = html`<p id="two-factor-state">
            Off. With it on, signing in asks for a code from an authenticator app after the password.
          </p>
          ${postButton({ action: '/dashboard/two-factor/enrol', csrf, label: 'Set up', name: 'enrol' })}`;
      }
      return ctx.render(request, reply, {
        title: 'Two-factor sign-in',
        active: 'two-factor',
        status: extra.status ?? 200,
        body: html`<h1>Two-factor sign-in</h1>
          ${body}`,
      });
    };

    app.get('/two-factor', async (request, reply) => show(request, reply));

    app.post('/two-factor/enrol', async (request, reply) => {
      if (!(await twoFactor.enrol(userOf(request))))
        return ctx.back(reply, '/dashboard/two-factor', 'Two-factor sign-in is already on.');
      return ctx.back(reply, '/dashboard/two-factor');
    });

    app.post('/two-factor/confirm', async (request, reply) => {
      const codes = await twoFactor.confirm(userOf(request), formOf(request).code ?? '');
      if (!codes) return show(request, reply, { error: 'Wrong code; type the current one.', status: 400 });
      await ctx.audit(request, 'two_factor_enabled', { target: userOf(request) });
      return show(request, reply, { codes });
    });

    app.post('/two-factor/disable', async (request, reply) => {
      const user = userOf(request);
      if (!(await auth.checkPassword(user, formOf(request).password ?? '')))
        return show(request, reply, { error: 'Wrong password.', status: 400 });
      await twoFactor.disable(user);
      await ctx.audit(request, 'two_factor_disabled', { target: user });
      return ctx.back(reply, '/dashboard/two-factor', 'Two-factor sign-in is off.');
    });
  },
};

export default page;
