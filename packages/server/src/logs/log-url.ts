/** Where a person reads one monitoring log: the dashboard's log page (X-Scrapfly-Log-Url, `log_url`). */
export function logUrlOf(publicUrl: string, logUuid: string): string {
  return `${publicUrl}/dashboard/monitoring/log/${logUuid}`;
}
