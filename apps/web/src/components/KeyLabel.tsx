import { DEFAULT_UPLOAD_PREFIX } from '@thumbs/model';
import { baseName } from '../lib/format.ts';

/**
 * A video's S3 key for people: the file name first (always visible), then its folder muted, e.g.
 * "clip.mp4 test-m3x9/" for uploads/test-m3x9/clip.mp4, so that repeated names stay distinguishable.
 */
export function KeyLabel({ source }: { source: string }) {
  const name = baseName(source);
  const path = source.slice(0, source.length - name.length);
  const folder = path.startsWith(DEFAULT_UPLOAD_PREFIX) ? path.slice(DEFAULT_UPLOAD_PREFIX.length) : path;
  return (
    <span className="key-label mono" title={source}>
      {name}
      {folder && <span className="key-folder"> {folder}</span>}
    </span>
  );
}
