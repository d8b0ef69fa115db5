// The SDK's answer types held against the server's documented answers (wire.ts, generated from
// /openapi.json by `npm run sdk:wire-types`): each line fails to compile when an answer the server documents
// is no longer one the SDK's type accepts (a field it reads is gone, renamed, or of another type), so the
// build breaks before a user's code does. Types only: nothing here reaches the built JavaScript's callers.
import type * as Crawl from './crawl.js';
import type * as Extraction from './extraction.js';
import type * as Scrape from './scrape.js';
import type * as Types from './types.js';
import type * as Wire from './wire.js';

/** Compiles only when every answer `Served` describes is a value of `Declared`. */
type Accepts<Declared, Served extends Declared> = Served;

export type WireConformance = [
  Accepts<Types.Webhook, Wire.Webhook>,
  Accepts<Types.DeliveryAttempt, Wire.DeliveryAttempt>,
  Accepts<Types.Job, Wire.Job>,
  Accepts<Types.ScreenshotLog, Wire.ScreenshotLog>,
  Accepts<Types.MonitoringMetrics, Wire.MonitoringMetrics>,
  Accepts<Types.MonitoringTargetMetrics, Wire.MonitoringTargetMetrics>,
  Accepts<Types.Schedule, Wire.Schedule>,
  Accepts<Types.ScheduleRun, Wire.ScheduleRun>,
  Accepts<Types.ExecutedSchedule, Wire.ExecutedSchedule>,
  Accepts<Types.Monitor, Wire.Monitor>,
  Accepts<Types.MonitorRun, Wire.MonitorRun>,
  Accepts<Types.ScreenshotComparison, Wire.ScreenshotComparison>,
  Accepts<Scrape.ScrapeResult, Wire.ScrapeResult>,
  // cost, remainingCredit and logUuid come from the answer's headers, not its body.
  Accepts<Omit<Extraction.ExtractionResult, 'cost' | 'remainingCredit' | 'logUuid'>, Wire.ExtractionResult>,
  Accepts<Extraction.SavedTemplate, Wire.SavedTemplate>,
  Accepts<Crawl.CrawlStatus, Wire.CrawlStatus>,
];
