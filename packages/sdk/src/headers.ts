// Header names of webhook deliveries (docs/compat.md §3), in the lower case Node gives them.
export const WebhookHeader = {
  signature: 'x-scrapfly-webhook-signature',
  signatureLowercase: 'x-scrapfly-webhook-signature-lowercase',
  /** During a secret rotation's grace period: the same body signed with the previous secret. */
  signaturePrevious: 'x-scrapfly-webhook-signature-previous',
  env: 'x-scrapfly-webhook-env',
  project: 'x-scrapfly-webhook-project',
  name: 'x-scrapfly-webhook-name',
  /** The webhook's uuid, the same on every delivery. */
  webhookId: 'x-scrapfly-webhook-id',
  /** The job uuid: the dedup key. */
  jobId: 'x-scrapfly-webhook-job-id',
  /**
   * The same for every retry of one delivery (the job id), new for an explicit replay: what the receiver
   * dedups on, so that a replay asked for in the dashboard or API is not taken for a duplicate.
   */
  deliveryId: 'x-scrapfly-webhook-delivery-id',
  resourceType: 'x-scrapfly-webhook-resource-type',
  logUuid: 'x-scrapfly-log-uuid',
  logUrl: 'x-scrapfly-log-url',
} as const;

export type WebhookResourceType = 'screenshot' | 'scrape' | 'extraction' | 'crawl' | 'ping';
