// @snapwire/sdk: client, typed errors, webhook signatures and receivers for Snapwire (and Scrapfly's
// Screenshot API, which speaks the same wire format). Node built-ins only.

export {
  SnapwireClient,
  type AccountData,
  type CallOptions,
  type RetryOptions,
  type SavedScreenshot,
  type ScreenshotMeta,
  type ScreenshotResult,
  type SnapwireClientOptions,
  type UsageCounter,
  type WebhookEnqueued,
} from './client.js';
export { DEFAULT_HOST, fromEnv } from './env.js';
export type {
  CreateWebhookInput,
  DeliveryAttempt,
  Job,
  ListLogsParams,
  MonitoringMetrics,
  MonitoringMetricsParams,
  MonitoringPeriod,
  MonitoringPeriodInfo,
  MonitoringStats,
  MonitoringTargetMetrics,
  MonitoringTargetParams,
  ScreenshotLog,
  UpdateWebhookInput,
  Webhook,
  WebhookLimits,
  CreateScheduleInput,
  ExecutedSchedule,
  ListSchedulesParams,
  Schedule,
  ScheduleRecurrence,
  ScheduleRun,
  ScheduleSettings,
  ScheduleStatus,
  UpdateScheduleInput,
} from './types.js';
export {
  BadApiKeyError,
  ExtractionError,
  TemplateNotFoundError,
  SnapwireApiError,
  SnapwireError,
  apiErrorFromResponse,
  parseRetryAfter,
  type SnapwireApiErrorInit,
} from './errors.js';
export {
  base64url,
  buildScreenshotQuery,
  SCREENSHOT_FORMATS,
  SCREENSHOT_OPTIONS,
  VISION_DEFICIENCIES,
  type PdfPaper,
  type ScreenshotFormat,
  type ScreenshotOption,
  type ScreenshotParams,
  type VisionDeficiency,
} from './params.js';
export {
  buildScrapeQuery,
  scrapeContent,
  ScrapeError,
  UpstreamHttpClientError,
  UpstreamHttpError,
  UpstreamHttpServerError,
  SCRAPE_FORMAT_OPTIONS,
  SCRAPE_FORMATS,
  SCRAPE_METHODS,
  SCRAPE_SCREENSHOT_FLAGS,
  type ScrapeCookie,
  type ScrapeErrorDetail,
  type ScrapeFormat,
  type ScrapeFormatOption,
  type ScrapeMethod,
  type ScrapeParams,
  type ScrapeResult,
  type ScrapeScenarioStep,
  type ScrapeScreenshot,
  type ScrapeScreenshotFlag,
} from './scrape.js';
export {
  buildExtractionQuery,
  EXTRACTION_MODELS,
  type ExtractionModel,
  type ExtractionResult,
  type ExtractionTemplate,
  type ExtractParams,
  type SavedTemplate,
} from './extraction.js';
export { extensionFor, isJsonContentType } from './content-type.js';
export { signPayload, verifySignature, type VerifySignatureInput, type WebhookBody } from './signature.js';
export { WebhookHeader, type WebhookResourceType } from './headers.js';
export { JobIdDedup } from './dedup.js';
export {
  DEFAULT_DEDUP_MAX_ENTRIES,
  DEFAULT_DEDUP_WINDOW_MS,
  DEFAULT_MAX_BODY_BYTES,
  createWebhookReceiver,
  type DeliveryCallback,
  type DeliveryKind,
  type DeliveryOutcome,
  type RawDelivery,
  type ReceiverLogger,
  type WebhookDelivery,
  type WebhookReceiver,
  type WebhookReceiverOptions,
} from './receiver.js';
export {
  createExpressWebhookMiddleware,
  createFastifyWebhookHandler,
  snapwireFastifyPlugin,
  type ExpressNext,
  type ExpressRequestLike,
  type FastifyInstanceLike,
  type FastifyReplyLike,
  type FastifyRequestLike,
  type FastifyWebhookPluginOptions,
} from './adapters.js';
export {
  fileStem,
  runListener,
  saveDelivery,
  type RunListenerOptions,
  type RunningListener,
  type SavedDelivery,
} from './listener.js';
export {
  CRAWL_CONTENT_FORMATS,
  parseCrawlUrls,
  type CrawlConfig,
  type CrawlContentFormat,
  type CrawlStatus,
  type CrawlUrl,
  type CrawlUrlStatus,
} from './crawl.js';
