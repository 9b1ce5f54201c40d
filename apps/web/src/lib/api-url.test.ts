import { describe, expect, it } from 'vitest';
import { apiEndpoints } from './api-url.ts';

describe('apiEndpoints', () => {
  it('uses the page origin when no API base is configured (ALB same-origin routing)', () => {
    expect(apiEndpoints('', { protocol: 'https:', host: 'thumbnail.example.com' })).toEqual({
      http: '',
      ws: 'wss://thumbnail.example.com/ws',
    });
    expect(apiEndpoints('  ', { protocol: 'http:', host: 'localhost:3000' }).ws).toBe(
      'ws://localhost:3000/ws',
    );
  });

  it('uses the configured API base in local mode', () => {
    expect(apiEndpoints('http://localhost:8000/', { protocol: 'http:', host: 'localhost:3000' })).toEqual({
      http: 'http://localhost:8000',
      ws: 'ws://localhost:8000/ws',
    });
  });

  it('keeps a path prefix and picks wss for https', () => {
    expect(apiEndpoints('https://ops.example.com/pipeline', { protocol: 'http:', host: 'x' })).toEqual({
      http: 'https://ops.example.com/pipeline',
      ws: 'wss://ops.example.com/pipeline/ws',
    });
  });
});
