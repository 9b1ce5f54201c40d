import { describe, expect, it } from 'vitest';
import { configEnv, ConfigError, env, loadConfig, pipelineSpec } from './config.ts';

describe('configEnv', () => {
  it('renders values that loadConfig reads back, named by the spec', () => {
    const values = {
      ...loadConfig(pipelineSpec, {}),
      endpoint: 'http://127.0.0.1:4566',
      queueUrl: 'http://127.0.0.1:4566/000000000000/jobs',
      maxReceiveCount: 5,
    };
    const rendered = configEnv(pipelineSpec, values);
    expect(rendered).toMatchObject({ AWS_ENDPOINT_URL: values.endpoint, MAX_RECEIVE_COUNT: '5' });
    expect(loadConfig(pipelineSpec, rendered)).toEqual(values);
  });

  it('leaves out unset values and keys the spec does not have', () => {
    expect(configEnv(pipelineSpec, { dlqUrl: undefined, bucket: 'b', ...{ other: 1 } })).toEqual({
      S3_BUCKET: 'b',
    });
  });
});

describe('loadConfig', () => {
  it('names every bad variable in one error', () => {
    const spec = { a: env.int('A', 1), b: env.bool('B', true), c: env.optionalOrigin('C') };
    const error = (() => {
      try {
        loadConfig(spec, { A: 'x', B: 'maybe', C: 'ftp://h' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(':')[0])).toEqual(['A', 'B', 'C']);
  });

  it('reads an origin from a URL with a path', () => {
    expect(loadConfig({ o: env.optionalOrigin('O') }, { O: 'http://localhost:3000/x/' })).toEqual({
      o: 'http://localhost:3000',
    });
  });
});
