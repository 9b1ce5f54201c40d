import { describe, expect, it } from 'vitest';
import { publicError } from './poller.ts';

describe('publicError', () => {
  it("keeps AWS's message, which names the account and its resources, out of the state", () => {
    const denied = Object.assign(
      new Error(
        'User: arn:aws:sts::123456789012:assumed-role/thumbnail-api/pod is not authorized to perform: ' +
          'sqs:GetQueueAttributes on resource: arn:aws:sqs:us-east-1:123456789012:thumbnail-jobs',
      ),
      { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } },
    );
    expect(publicError(denied)).toBe('AccessDenied (details in the API log)');
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
    expect(publicError(refused)).toBe('ECONNREFUSED (details in the API log)');
  });
});
