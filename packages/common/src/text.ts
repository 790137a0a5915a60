/** Texts cut to what the services store: an error text longer than the metadata-service accepts would make its PATCH fail. */

/** Most characters of an error text the metadata-service accepts (UpdateJobRequest's and FileResult's `error`, NVARCHAR(4000)). */
export const MAX_ERROR_TEXT = 4000;

/**
 * `text` cut to at most `max` UTF-16 code units (what zod's .max() and NVARCHAR count), ending in
 * '…' when it was cut. Never splits a surrogate pair.
 */
export function clipText(text: string, max = MAX_ERROR_TEXT): string {
  if (text.length <= max) return text;
  if (max < 1) return '';
  let end = max - 1; // room for the ellipsis
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // a high surrogate whose low half falls outside
  return `${text.slice(0, end)}…`;
}

/**
 * An error answer's body as text, at most `max` characters, then the body destroyed. A body that
 * breaks off gives what arrived: the status is what counts. (Never read an error body whole: it is
 * the other side's to make as long as it likes.)
 */
export async function readErrorText(body: AsyncIterable<unknown> & { destroy(): unknown }, max = 64 * 1024): Promise<string> {
  let text = '';
  try {
    for await (const chunk of body) {
      text += String(chunk);
      if (text.length > max) break;
    }
  } catch {
    // the answer broke off
  }
  body.destroy();
  return text.slice(0, max);
}
