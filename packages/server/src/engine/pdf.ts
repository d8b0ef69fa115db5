import type { AttemptScope } from './deadline.js';
import type { CdpSession } from './cdp.js';

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

/**
 * The page as a PDF through Chromium's own printing (Page.printToPDF on the page's CDP session): the same
 * layout engine as the screenshots, print media rules applied, text kept as text.
 */
export async function printPdf(
  session: CdpSession,
  scope: AttemptScope,
  options: PdfOptions,
): Promise<Buffer> {
  const [widthMm, heightMm] = PDF_PAPERS[options.paper];
  const result = await scope.run(
    session.send<{ data: string }>('Page.printToPDF', {
      // Chromium swaps width and height itself when landscape is set.
      landscape: options.landscape,
      printBackground: options.printBackground,
      paperWidth: widthMm / MM_PER_INCH,
      paperHeight: heightMm / MM_PER_INCH,
      preferCSSPageSize: false,
      transferMode: 'ReturnAsBase64',
    }),
  );
  return Buffer.from(result.data, 'base64');
}
