import { describe, expect, it } from 'vitest';
import { ServerMessageSchema } from './schema.ts';
import { SERVER_MESSAGE_JSON_SCHEMA } from './server-message-schema.generated.ts';

describe('the generated ServerMessage schema', () => {
  it('is ServerMessageSchema as JSON (run `npm run generate -w @thumbs/model` after changing the schema)', () => {
    expect(SERVER_MESSAGE_JSON_SCHEMA).toEqual(JSON.parse(JSON.stringify(ServerMessageSchema)));
  });
});
