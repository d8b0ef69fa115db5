import type { FastifyRequest } from 'fastify';
import type { Caller } from '../accounts/projects.js';
import type { AuditAction, AuditLog } from '../audit/audit-log.js';

/** The audit log's actor for a change made with a project's API key (never the key itself). */
export const keyActor = (caller: Caller) => `key:${caller.project.name}/${caller.env}`;

/**
 * Writes the audit row of a change an API route made with a key (the dashboard writes its own, as its
 * signed-in user): the project, what changed, the client's address as the service sees it.
 */
export function auditByKey(
  audit: AuditLog,
  request: FastifyRequest,
  caller: Caller,
  action: AuditAction,
  target: string,
  detail?: Record<string, unknown>,
): Promise<void> {
  return audit.record({
    actor: keyActor(caller),
    action,
    projectId: caller.project.id,
    target,
    sourceAddress: request.ip,
    ...(detail ? { detail } : {}),
  });
}
