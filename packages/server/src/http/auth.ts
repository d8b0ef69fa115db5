import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller, ProjectService } from '../accounts/projects.js';
import { sendUnauthorized } from './errors.js';

/** Finds the caller from the `key` query parameter; answers 401 itself and returns undefined when it fails. */
export async function authenticate(
  projects: ProjectService,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<Caller | undefined> {
  const key = (request.query as Record<string, unknown> | undefined)?.key;
  if (typeof key !== 'string' || key === '') {
    sendUnauthorized(reply, 'Missing API key: pass your project key as the key query parameter');
    return undefined;
  }
  const caller = await projects.authenticate(key);
  if (!caller) {
    sendUnauthorized(reply);
    return undefined;
  }
  return caller;
}
