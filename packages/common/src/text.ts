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
