import { describe, expect, it } from 'vitest';
import { matchesConfiguration, notificationXml, parseNotificationXml } from './notifications.ts';

const arn = 'arn:aws:sqs:us-east-1:000000000000:thumbnail-jobs';
const config = (id: string, prefix: string, suffix: string, event = 's3:ObjectCreated:*') =>
  `<QueueConfiguration><Id>${id}</Id><Queue>${arn}</Queue><Event>${event}</Event><Filter><S3Key>` +
  `<FilterRule><Name>prefix</Name><Value>${prefix}</Value></FilterRule>` +
  `<FilterRule><Name>Suffix</Name><Value>${suffix}</Value></FilterRule></S3Key></Filter></QueueConfiguration>`;
const doc = (...items: string[]) =>
  `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${items.join('')}</NotificationConfiguration>`;

describe('bucket notification configurations', () => {
  it('reads queue configurations and writes them back as S3 does', () => {
    const [parsed] = parseNotificationXml(doc(config('a', 'uploads/', '.mp4')));
    expect(parsed).toEqual({
      id: 'a',
      queueArn: arn,
      events: ['s3:ObjectCreated:*'],
      filterRules: [
        { name: 'prefix', value: 'uploads/' },
        { name: 'suffix', value: '.mp4' },
      ],
    });
    expect(parseNotificationXml(notificationXml([parsed!]))).toEqual([parsed]);
  });

  it('matches prefix and suffix case-sensitively, and the event by name or wildcard', () => {
    const [c] = parseNotificationXml(doc(config('a', 'uploads/', '.mp4', 's3:ObjectCreated:Put')));
    expect(matchesConfiguration(c!, 'ObjectCreated:Put', 'uploads/a.mp4')).toBe(true);
    expect(matchesConfiguration(c!, 'ObjectCreated:Put', 'uploads/a.MP4')).toBe(false);
    expect(matchesConfiguration(c!, 'ObjectCreated:Put', 'Uploads/a.mp4')).toBe(false);
    expect(matchesConfiguration(c!, 'ObjectCreated:Copy', 'uploads/a.mp4')).toBe(false);
  });

  it('rejects overlapping configurations, unknown events and topic destinations', () => {
    expect(() =>
      parseNotificationXml(doc(config('a', 'uploads/', '.mp4'), config('b', 'up', 'a.mp4'))),
    ).toThrow(/overlap/);
    expect(() =>
      parseNotificationXml(doc(config('a', 'uploads/', '.mp4'), config('b', 'uploads/', '.MP4'))),
    ).not.toThrow();
    expect(() => parseNotificationXml(doc(config('a', 'uploads/', '.mp4', 's3:ObjectRestore:Post')))).toThrow(
      /not supported/,
    );
    expect(() =>
      parseNotificationXml(
        doc('<TopicConfiguration><Topic>arn:aws:sns:us-east-1:1:t</Topic></TopicConfiguration>'),
      ),
    ).toThrow(/Only queue/);
    expect(() => parseNotificationXml('<oops')).toThrow();
  });
});
