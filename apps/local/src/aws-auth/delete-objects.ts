/**
 * DeleteObjects is one request but AWS authorizes s3:DeleteObject for each key it names: the keys the caller
 * may not delete stay, and come back in the result as AccessDenied errors beside the deleted ones.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { escapeXml } from '../xml-text.ts';

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => name === 'Object',
});
const builder = new XMLBuilder({});

interface DeleteBody {
  Delete?: { Object?: { Key?: unknown; VersionId?: unknown }[]; Quiet?: unknown };
}

function parse(xml: string): DeleteBody {
  try {
    return parser.parse(xml) as DeleteBody;
  } catch {
    return {};
  }
}

/** The keys a DeleteObjects body names (an unparseable body names none: the emulator rejects it). */
export function deleteObjectsKeys(xml: string): string[] {
  return (parse(xml).Delete?.Object ?? []).flatMap((o) => (typeof o.Key === 'string' ? [o.Key] : []));
}

/** The body without the denied keys; undefined when no key is left to delete. */
export function withoutDeniedKeys(xml: string, denied: string[]): string | undefined {
  const body = parse(xml);
  const kept = (body.Delete?.Object ?? []).filter(
    (o) => typeof o.Key !== 'string' || !denied.includes(o.Key),
  );
  if (kept.length === 0) return undefined;
  return builder.build({ Delete: { ...body.Delete, Object: kept } }) as string;
}

function errorsXml(denied: string[]): string {
  return denied
    .map(
      (key) =>
        `<Error><Key>${escapeXml(key)}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`,
    )
    .join('');
}

/** The emulator's DeleteResult with an AccessDenied error for each denied key. */
export function withDeleteErrors(answer: string, denied: string[]): string {
  const end = answer.lastIndexOf('</DeleteResult>');
  if (end < 0) return answer;
  return `${answer.slice(0, end)}${errorsXml(denied)}${answer.slice(end)}`;
}

/** A DeleteResult for a request whose every key was denied. */
export function deniedDeleteResult(denied: string[]): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${errorsXml(denied)}</DeleteResult>`
  );
}
