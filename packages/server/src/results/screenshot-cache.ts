import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

/** Longest cache_ttl a request may ask for: entries older than this are never served, and are swept. */
export const MAX_CACHE_TTL_SECONDS = 30 * 86_400;

export interface CachedImage {
  blobKey: string;
  contentType: string;
  upstreamStatus: number;
  finalUrl: string;
  createdAt: number;
}

/**
 * cache=true (docs/compat.md §1): the image of a normalised request (request/screenshot-request.ts cacheKeyOf) is
 * indexed per project and environment; a request finds it again while it is younger than its own
 * cache_ttl. The bytes live in the blob store; an entry whose blob is gone is a miss.
 */
export class ScreenshotCache {
  constructor(private readonly db: Kysely<Database>) {}

  async find(
    projectId: string,
    env: string,
    cacheKey: string,
    notBefore: number,
  ): Promise<CachedImage | undefined> {
    const row = await this.db
      .selectFrom('screenshot_cache')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('env', '=', env)
      .where('cache_key', '=', cacheKey)
      .where('created_at', '>=', notBefore)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      blobKey: row.blob_key,
      contentType: row.content_type,
      upstreamStatus: row.upstream_status,
      finalUrl: row.final_url,
      createdAt: Number(row.created_at),
    };
  }

  async store(projectId: string, env: string, cacheKey: string, image: CachedImage): Promise<void> {
    const values = {
      blob_key: image.blobKey,
      content_type: image.contentType,
      upstream_status: image.upstreamStatus,
      final_url: image.finalUrl,
      created_at: image.createdAt,
    };
    await this.db
      .insertInto('screenshot_cache')
      .values({ project_id: projectId, env, cache_key: cacheKey, ...values })
      .onConflict((oc) => oc.columns(['project_id', 'env', 'cache_key']).doUpdateSet(values))
      .execute();
  }

  /** Drops entries no request can use any more (older than the longest cache_ttl). */
  async expire(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('screenshot_cache')
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows ?? 0);
  }
}
