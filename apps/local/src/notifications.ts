/**
 * S3 bucket notification configurations (queue targets only), as AWS models them: parsing and writing the
 * XML of PutBucketNotificationConfiguration / GetBucketNotificationConfiguration, validation, and deciding
 * which configurations an object event matches.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { randomBytes } from 'node:crypto';
import type { S3ObjectEventName } from '@thumbs/model';

export interface FilterRule {
  name: 'prefix' | 'suffix';
  value: string;
}

export interface QueueConfiguration {
  id: string;
  queueArn: string;
  events: string[];
  filterRules: FilterRule[];
}

export class NotificationConfigError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const KNOWN_EVENTS = new Set([
  's3:ObjectCreated:*',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:*',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
]);

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) =>
    [
      'QueueConfiguration',
      'TopicConfiguration',
      'CloudFunctionConfiguration',
      'Event',
      'FilterRule',
    ].includes(name),
});

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** Reads the request body of PutBucketNotificationConfiguration. Throws NotificationConfigError when invalid. */
export function parseNotificationXml(xml: string): QueueConfiguration[] {
  let doc: Record<string, unknown>;
  try {
    doc = record(parser.parse(xml));
  } catch {
    throw new NotificationConfigError('MalformedXML', 'The XML you provided was not well-formed');
  }
  if (!('NotificationConfiguration' in doc)) {
    throw new NotificationConfigError('MalformedXML', 'Expected a NotificationConfiguration element');
  }
  const root = record(doc.NotificationConfiguration);
  if (asArray(root.TopicConfiguration).length > 0 || asArray(root.CloudFunctionConfiguration).length > 0) {
    throw new NotificationConfigError(
      'NotImplemented',
      'Only queue (SQS) notification destinations are supported by the local emulator',
    );
  }
  const configurations = asArray(root.QueueConfiguration).map((raw) => {
    const item = record(raw);
    const rules = asArray(record(record(item.Filter).S3Key).FilterRule).map((rawRule) => {
      const rule = record(rawRule);
      const name = text(rule.Name).toLowerCase();
      if (name !== 'prefix' && name !== 'suffix') {
        throw new NotificationConfigError(
          'InvalidArgument',
          `filter rule name must be either prefix or suffix`,
        );
      }
      return { name, value: text(rule.Value) } as FilterRule;
    });
    const events = asArray(item.Event).map(text);
    for (const event of events) {
      if (!KNOWN_EVENTS.has(event)) {
        throw new NotificationConfigError(
          'InvalidArgument',
          `The event is not supported for notifications: ${event}`,
        );
      }
    }
    if (events.length === 0)
      throw new NotificationConfigError('InvalidArgument', 'A configuration needs an Event');
    const queueArn = text(item.Queue);
    if (!/^arn:aws:sqs:[^:]+:\d{12}:[^:]+$/.test(queueArn)) {
      throw new NotificationConfigError('InvalidArgument', `Invalid queue ARN: ${queueArn}`);
    }
    for (const name of ['prefix', 'suffix'] as const) {
      if (rules.filter((r) => r.name === name).length > 1) {
        throw new NotificationConfigError(
          'InvalidArgument',
          `Cannot specify more than one ${name} rule in a filter.`,
        );
      }
    }
    return { id: text(item.Id) || randomBytes(24).toString('base64'), queueArn, events, filterRules: rules };
  });
  assertNoOverlap(configurations);
  return configurations;
}

function rule(config: QueueConfiguration, name: FilterRule['name']): string {
  return config.filterRules.find((r) => r.name === name)?.value ?? '';
}

function sharesEvent(a: QueueConfiguration, b: QueueConfiguration): boolean {
  const covers = (x: string, y: string) => x === y || (x.endsWith(':*') && y.startsWith(x.slice(0, -1)));
  return a.events.some((x) => b.events.some((y) => covers(x, y) || covers(y, x)));
}

/** AWS rejects two configurations that share an event type and whose prefix and suffix filters both overlap. */
function assertNoOverlap(configurations: QueueConfiguration[]): void {
  configurations.forEach((a, i) => {
    for (const b of configurations.slice(i + 1)) {
      const [pa, pb, sa, sb] = [rule(a, 'prefix'), rule(b, 'prefix'), rule(a, 'suffix'), rule(b, 'suffix')];
      const prefixesOverlap = pa.startsWith(pb) || pb.startsWith(pa);
      const suffixesOverlap = sa.endsWith(sb) || sb.endsWith(sa);
      if (sharesEvent(a, b) && prefixesOverlap && suffixesOverlap) {
        throw new NotificationConfigError(
          'InvalidArgument',
          'Configurations overlap. Configurations on the same bucket cannot share a common event type.',
        );
      }
    }
  });
}

const builder = new XMLBuilder({ format: false, suppressEmptyNode: false });

/** The response body of GetBucketNotificationConfiguration. */
export function notificationXml(configurations: QueueConfiguration[]): string {
  const body = builder.build({
    NotificationConfiguration: {
      '@_xmlns': 'http://s3.amazonaws.com/doc/2006-03-01/',
      QueueConfiguration: configurations.map((c) => ({
        Id: c.id,
        Queue: c.queueArn,
        Event: c.events,
        ...(c.filterRules.length > 0
          ? {
              Filter: {
                S3Key: {
                  FilterRule: c.filterRules.map((r) => ({
                    Name: r.name === 'prefix' ? 'Prefix' : 'Suffix',
                    Value: r.value,
                  })),
                },
              },
            }
          : {}),
      })),
    },
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}

/** Prefix and suffix filters are case-sensitive, as in AWS. */
export function matchesConfiguration(
  config: QueueConfiguration,
  event: S3ObjectEventName,
  key: string,
): boolean {
  const family = `s3:${event.split(':')[0]}:*`;
  const eventMatches = config.events.some((e) => e === family || e === `s3:${event}`);
  return eventMatches && key.startsWith(rule(config, 'prefix')) && key.endsWith(rule(config, 'suffix'));
}

export function queueNameFromArn(arn: string): { region: string; account: string; name: string } {
  const [, , , region = '', account = '', name = ''] = arn.split(':');
  return { region, account, name };
}
