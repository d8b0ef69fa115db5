import type { Generated } from 'kysely';

/** Table types shared by both dialects. Times are epoch milliseconds (BIGINT on PostgreSQL, parsed as number). */
export interface ProjectsTable {
  id: string;
  name: string;
  plan: string;
  /** JSON object of per-project limit overrides (see accounts/plans.ts). Stored as text on both dialects. */
  limit_overrides: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  project_id: string;
  env: 'LIVE' | 'TEST';
  /** SHA-256 of the key; the key itself is never stored. */
  key_hash: string;
  /** The last four characters, to tell keys apart in listings. */
  key_hint: string;
  created_at: number;
}

export interface CreditUsageTable {
  project_id: string;
  /** Calendar month, UTC, as YYYY-MM. */
  period: string;
  credits_used: number;
}

export interface ScreenshotLogsTable {
  log_uuid: string;
  project_id: string;
  env: 'LIVE' | 'TEST';
  url: string;
  params: string;
  http_status: number;
  error_code: string | null;
  error_reason: string | null;
  upstream_status: number | null;
  final_url: string | null;
  cost: number;
  duration_ms: number;
  blob_key: string | null;
  content_type: string | null;
  created_at: number;
}

export interface Database {
  projects: ProjectsTable;
  api_keys: ApiKeysTable;
  credit_usage: CreditUsageTable;
  screenshot_logs: ScreenshotLogsTable;
}

export type { Generated };
