import { describe, expect, it } from 'vitest';
import { boundaryProblems, importsOf, workspaces } from './workspaces.ts';

describe('workspace boundaries', () => {
  it('finds the imports of a file in every form', () => {
    // Keywords in capitals, so that this file's own scan does not read them as imports.
    const text = [
      "IMPORT a from './a.ts';",
      "IMPORT type { B } from '@thumbs/model';",
      "EXPORT { c } from '../c.ts';",
      "IMPORT 'side-effect';",
      "const d = await IMPORT('./d.ts');",
      '// IMPORT { e } from "./e.ts";',
      "IMPORT {\n  f,\n  type G,\n} from 'f-lib';",
    ]
      .join('\n')
      .replaceAll('IMPORT', 'import')
      .replaceAll('EXPORT', 'export');
    expect(importsOf(text)).toEqual(['./a.ts', '@thumbs/model', '../c.ts', 'side-effect', './d.ts', 'f-lib']);
  });

  it('sees every workspace', () => {
    expect(workspaces().map((w) => w.manifest.name)).toEqual(
      expect.arrayContaining([
        '@thumbs/api',
        '@thumbs/web',
        '@thumbs/worker',
        '@thumbs/local',
        '@thumbs/model',
      ]),
    );
  });

  it('no workspace reaches into another one except through a declared dependency and its exports', () => {
    expect(boundaryProblems()).toEqual([]);
  });
});
