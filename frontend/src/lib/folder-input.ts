/** The import form's check, with the API's own schema (packages/common's contracts), before sending. */
import { CreateImportRequest } from '../../../packages/common/src/contracts.ts';

export interface ImportFormValues {
  folder_url: string;
  destination: string;
  thumbnails: boolean;
}

export type Checked = { ok: true; body: CreateImportRequest } | { ok: false; message: string };

export function checkImportForm(values: ImportFormValues): Checked {
  const parsed = CreateImportRequest.safeParse({
    folder_url: values.folder_url,
    ...(values.destination ? { destination: values.destination } : {}),
    thumbnails: values.thumbnails,
  });
  if (parsed.success) return { ok: true, body: parsed.data };
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.');
  if (field === 'folder_url') return { ok: false, message: values.folder_url.trim() === '' ? 'Paste a Drive folder URL or id' : `Folder URL: ${issue.message}` };
  return { ok: false, message: `${field || 'form'}: ${issue.message}` };
}
