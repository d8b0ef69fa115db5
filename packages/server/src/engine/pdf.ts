import type { AttemptScope } from './deadline.js';
import { CdpError, type CdpSession } from './cdp.js';

/** Paper sizes for format=pdf, in millimetres (portrait), as printers name them. */
export const PDF_PAPERS = {
  a3: [297, 420],
  a4: [210, 297],
  a5: [148, 210],
  letter: [215.9, 279.4],
  legal: [215.9, 355.6],
  tabloid: [279.4, 431.8],
} as const satisfies Record<string, readonly [number, number]>;
export type PdfPaper = keyof typeof PDF_PAPERS;
export const PDF_PAPER_NAMES = Object.keys(PDF_PAPERS) as PdfPaper[];

export interface PdfOptions {
  paper: PdfPaper;
  landscape: boolean;
  printBackground: boolean;
}

const MM_PER_INCH = 25.4;
/** CSS pixels per inch: Chromium lays a printed page out at 96 CSS px an inch. */
const CSS_PX_PER_INCH = 96;

/** What bounds one PDF: the same settings as a full-page image (SNAPWIRE_MAX_FULLPAGE_HEIGHT, ..._PIXELS). */
export interface PdfLimits {
  maxFullpageHeight: number;
  maxOutputPixels?: number;
}

export interface PrintedPdf {
  data: Buffer;
  /** Set when the document had more pages than the limits allow: the PDF stops after this page. */
  truncatedAtPage?: number;
}

/**
 * The most pages one PDF holds. Each page counts as its sheet of paper in CSS pixels (96 an inch, as
 * Chromium lays it out): the sheets laid end to end stay within SNAPWIRE_MAX_FULLPAGE_HEIGHT, like a full
 * page, and their area within SNAPWIRE_MAX_OUTPUT_PIXELS. device_scale_factor does not apply (a PDF keeps
 * text and shapes as vectors). At least one page.
 */
export function pdfPageLimit(options: Pick<PdfOptions, 'paper' | 'landscape'>, limits: PdfLimits): number {
  const [widthMm, heightMm] = PDF_PAPERS[options.paper];
  const toCss = (mm: number) => (mm / MM_PER_INCH) * CSS_PX_PER_INCH;
  const sheetHeight = toCss(options.landscape ? widthMm : heightMm);
  const sheetArea = toCss(widthMm) * toCss(heightMm);
  const byHeight = Math.floor(limits.maxFullpageHeight / sheetHeight);
  const byArea = Math.floor((limits.maxOutputPixels ?? Number.POSITIVE_INFINITY) / sheetArea);
  return Math.max(1, Math.min(byHeight, byArea));
}

/** Pages in a PDF Chromium (Skia) wrote: its page objects are plain text. 0 when none can be read. */
function countPages(pdf: Buffer): number {
  return pdf.toString('latin1').match(/\/Type\s*\/Page(?![A-Za-z])/g)?.length ?? 0;
}

/**
 * The page as a PDF through Chromium's own printing (Page.printToPDF on the page's CDP session): the same
 * layout engine as the screenshots, print media rules applied, text kept as text. Only the first
 * pdfPageLimit() pages are printed; when the PDF is that long, one more page is asked for to tell whether
 * the document was cut.
 */
export async function printPdf(
  session: CdpSession,
  scope: AttemptScope,
  options: PdfOptions,
  limits: PdfLimits,
): Promise<PrintedPdf> {
  const [widthMm, heightMm] = PDF_PAPERS[options.paper];
  const maxPages = pdfPageLimit(options, limits);
  const print = (pageRanges: string) =>
    session.send<{ data: string }>('Page.printToPDF', {
      // Chromium swaps width and height itself when landscape is set.
      landscape: options.landscape,
      printBackground: options.printBackground,
      paperWidth: widthMm / MM_PER_INCH,
      paperHeight: heightMm / MM_PER_INCH,
      preferCSSPageSize: false,
      // Pages past the document's end are left out quietly by Chromium.
      pageRanges,
      transferMode: 'ReturnAsBase64',
    });
  const data = Buffer.from((await scope.run(print(`1-${maxPages}`))).data, 'base64');
  if (countPages(data) !== maxPages) return { data };
  // Chromium refuses a range with no page in it: the next page exists exactly when the document goes on.
  const more = await scope.run(print(String(maxPages + 1))).then(
    () => true,
    (error: unknown) => {
      if (error instanceof CdpError && /page range|no pages/i.test(error.message)) return false;
      throw error;
    },
  );
  return more ? { data, truncatedAtPage: maxPages } : { data };
}
