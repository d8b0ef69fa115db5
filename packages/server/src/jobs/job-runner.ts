import type { Caller } from '../accounts/projects.js';
import type { ApiError } from '../errors.js';
import type { Job } from '../queue/job-queue.js';

/**
 * What running one queued job gave: a payload to deliver (the answer the synchronous call would have
 * given, with its headers), or a catalogue error (delivered as the error body; `logged` when the job's
 * log row already says so). Throttles and store outages are errors too: the worker puts those jobs back
 * in the queue instead of delivering them.
 */
export type RunOutcome =
  | { kind: 'payload'; payload: Buffer; contentType: string; headers: Record<string, string> }
  | { kind: 'error'; error: ApiError; logged: boolean };

/** Runs the queued jobs of one resource type (jobs/worker.ts picks the runner by `resource_type`). */
export interface JobRunner {
  run(caller: Caller, job: Job): Promise<RunOutcome>;
}
