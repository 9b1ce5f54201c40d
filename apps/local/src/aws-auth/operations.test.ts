import { describe, expect, it } from 'vitest';
import { operationOf, queueArnFromUrl, serviceOf } from './operations.ts';

const where = { region: 'us-east-1', account: '000000000000' };
const s3 = (method: string, rawUrl: string, headers: Record<string, string> = {}) =>
  operationOf('s3', { method, rawUrl, headers }, where);

describe('S3 requests in IAM terms', () => {
  it('maps object reads, writes and deletes to their actions on the object ARN', () => {
    expect(s3('GET', '/b/uploads/a%20b.mp4?x-id=GetObject')).toMatchObject({
      name: 'GetObject',
      checks: [{ action: 's3:GetObject', resource: 'arn:aws:s3:::b/uploads/a b.mp4' }],
    });
    expect(s3('HEAD', '/b/k').checks).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }]);
    expect(s3('PUT', '/b/k').checks).toEqual([{ action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' }]);
    expect(s3('DELETE', '/b/k').checks).toEqual([
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/k' },
    ]);
  });

  it('a copy needs to read the source and write the destination', () => {
    const copy = s3('PUT', '/b/uploads/x.mp4', { 'x-amz-copy-source': 'src/videos/a%2Bb.mp4?versionId=1' });
    expect(copy.name).toBe('CopyObject');
    expect(copy.checks).toEqual([
      { action: 's3:GetObject', resource: 'arn:aws:s3:::src/videos/a+b.mp4' },
      { action: 's3:PutObject', resource: 'arn:aws:s3:::b/uploads/x.mp4' },
    ]);
  });

  it('listing is s3:ListBucket on the bucket with the prefix as context; HEAD bucket too', () => {
    expect(s3('GET', '/b?list-type=2&prefix=thumbnails%2F&max-keys=10')).toMatchObject({
      name: 'ListObjectsV2',
      checks: [
        {
          action: 's3:ListBucket',
          resource: 'arn:aws:s3:::b',
          context: { 's3:prefix': 'thumbnails/', 's3:max-keys': '10' },
        },
      ],
    });
    expect(s3('HEAD', '/b').checks).toEqual([{ action: 's3:ListBucket', resource: 'arn:aws:s3:::b' }]);
  });

  it('multipart uploads are s3:PutObject, except abort', () => {
    expect(s3('POST', '/b/k?uploads').checks[0]?.action).toBe('s3:PutObject');
    expect(s3('PUT', '/b/k?partNumber=1&uploadId=u').name).toBe('UploadPart');
    expect(s3('POST', '/b/k?uploadId=u').name).toBe('CompleteMultipartUpload');
    expect(s3('DELETE', '/b/k?uploadId=u').checks[0]?.action).toBe('s3:AbortMultipartUpload');
  });

  it('bucket subresources have their own actions; unknown requests name no operation', () => {
    expect(s3('PUT', '/b?notification').checks[0]?.action).toBe('s3:PutBucketNotification');
    expect(s3('DELETE', '/b').checks[0]?.action).toBe('s3:DeleteBucket');
    expect(s3('GET', '/b?uploads').checks[0]?.action).toBe('s3:ListBucketMultipartUploads');
    expect(s3('GET', '/b/k?torrent').name).toBeUndefined();
  });
});

describe('SQS, SNS and STS requests', () => {
  it('tells the service from the credential scope, the target or the form', () => {
    const signed = (service: string) => ({
      authorization: `AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`,
    });
    expect(serviceOf('/', signed('sqs'), 'POST')).toBe('sqs');
    expect(serviceOf('/', signed('sns'), 'POST')).toBe('sns');
    expect(
      serviceOf('/b/k?X-Amz-Credential=AKID%2F20261201%2Fus-east-1%2Fs3%2Faws4_request', {}, 'GET'),
    ).toBe('s3');
    expect(serviceOf('/', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST')).toBe('sts');
    expect(serviceOf('/b/k', {}, 'GET')).toBe('s3');
  });

  it('maps SQS JSON operations to actions on the queue ARN (batches to their single action)', () => {
    const sqs = (target: string, body: object) =>
      operationOf(
        'sqs',
        {
          method: 'POST',
          rawUrl: '/',
          headers: { 'x-amz-target': `AmazonSQS.${target}` },
          body: JSON.stringify(body),
        },
        where,
      );
    const url = 'http://127.0.0.1:4566/000000000000/thumbnail-jobs';
    expect(sqs('DeleteMessageBatch', { QueueUrl: url }).checks).toEqual([
      { action: 'sqs:DeleteMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:thumbnail-jobs' },
    ]);
    expect(sqs('CreateQueue', { QueueName: 'thumbnail-api-1' }).checks[0]?.resource).toBe(
      'arn:aws:sqs:us-east-1:000000000000:thumbnail-api-1',
    );
    expect(sqs('ListQueues', {}).checks).toEqual([{ action: 'sqs:ListQueues', resource: '*' }]);
    expect(sqs('ReceiveMessage', {}).checks).toEqual([]);
  });

  it('maps SNS queries to actions on the topic, with the subscription endpoint as context', () => {
    const sns = (params: Record<string, string>) =>
      operationOf(
        'sns',
        { method: 'POST', rawUrl: '/', headers: {}, body: new URLSearchParams(params).toString() },
        where,
      );
    const topic = 'arn:aws:sns:us-east-1:000000000000:thumbnail-events';
    expect(
      sns({
        Action: 'Subscribe',
        TopicArn: topic,
        Protocol: 'sqs',
        Endpoint: 'arn:aws:sqs:us-east-1:000000000000:q',
      }).checks,
    ).toEqual([
      {
        action: 'sns:Subscribe',
        resource: topic,
        context: { 'sns:Endpoint': 'arn:aws:sqs:us-east-1:000000000000:q', 'sns:Protocol': 'sqs' },
      },
    ]);
    expect(sns({ Action: 'Unsubscribe', SubscriptionArn: `${topic}:1234-abcd` }).checks[0]?.resource).toBe(
      topic,
    );
    expect(sns({ Action: 'PublishBatch', TopicArn: topic }).checks[0]?.action).toBe('sns:Publish');
  });

  it('reads a queue ARN from any queue URL form', () => {
    expect(queueArnFromUrl('https://sqs.us-east-1.amazonaws.com/123456789012/q', where)).toBe(
      'arn:aws:sqs:us-east-1:123456789012:q',
    );
    expect(queueArnFromUrl('http://localhost:4566/queue/not-an-account', where)).toBeUndefined();
  });
});
