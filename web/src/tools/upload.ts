// Sends a file's bytes to the daemon with upload progress (fetch cannot report it; XHR can).
import { ApiError } from '../api/client.ts';

export function upload(url: string, file: File, onProgress: (done: number, total: number) => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('X-Trellis-Request', '1');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new ApiError(0, 'offline', 'the upload was interrupted: is the daemon still running?'));
    xhr.onload = () => {
      let body: unknown;
      try { body = JSON.parse(xhr.responseText); } catch { body = undefined; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
        reject(new ApiError(xhr.status, e?.code ?? 'error', e?.message ?? `the upload failed (${xhr.status})`));
      }
    };
    xhr.send(file);
  });
}
