import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import { isStoreOutage } from '../errors.js';

/**
 * The pool kysely draws PostgreSQL connections from, which never gives back a connection that a query
 * found dead. A backend that is terminated (restart, failover, pg_terminate_backend) first answers the
 * running query with an error and only then closes its socket; kysely releases the connection in between,
 * so pg-pool, which checks the connection only at release, would hand the dead one to the next query and
 * fail a second request. Releasing it with the error makes pg-pool discard it instead.
 */
export function discardingDeadConnections(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let lost: Error | undefined;
      const noteOutage = (error: unknown): never => {
        if (isStoreOutage(error)) lost = error;
        throw error;
      };
      const query = (...args: unknown[]): unknown => {
        const result = (client.query as (...a: unknown[]) => unknown)(...args);
        // A cursor (streamed query) is returned as is; its failures surface when it is read.
        return result instanceof Promise ? result.catch(noteOutage) : result;
      };
      return {
        query: query as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(lost ?? destroy),
      };
    },
    end: () => pool.end(),
  };
}
