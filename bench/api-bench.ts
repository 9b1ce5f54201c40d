import type { BenchContext } from './context.ts';
import type { Figure } from './figures.ts';

export async function benchApi(_ctx: BenchContext): Promise<Figure[]> {
  return [];
}
