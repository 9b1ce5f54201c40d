/** One line of the benchmark table: our figure beside the seed's, measured the same way in the same run. */
export interface Figure {
  section: string;
  name: string;
  unit: string;
  ours: number | null;
  seed: number | null;
  /** ours ÷ seed, or the figure the goal is stated on (e.g. scaling 2 workers ÷ 1) when there is no seed. */
  ratio: number | null;
  goal: string;
  /** null when the figure is reported without a goal, or could not be measured. */
  met: boolean | null;
  note?: string;
}

export function ratioOf(ours: number | null, seed: number | null): number | null {
  return ours === null || seed === null || seed === 0 ? null : ours / seed;
}

function show(value: number | null, unit: string): string {
  if (value === null) return '—';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`.trim();
}

function showRatio(ratio: number | null): string {
  return ratio === null ? '—' : `${ratio.toFixed(ratio >= 10 ? 1 : 3)}×`;
}

function showMet(met: boolean | null): string {
  return met === null ? '—' : met ? 'yes' : 'NO';
}

/** The table as Markdown (it reads well on a terminal too). */
export function markdownTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    show(f.ours, f.unit),
    show(f.seed, f.unit),
    showRatio(f.ratio),
    f.goal,
    showMet(f.met),
  ]);
  const header = ['figure', 'ours', 'seed', 'ratio', 'goal', 'met?'];
  const lines = [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`);
  const notes = figures.filter((f) => f.note).map((f) => `- ${f.name}: ${f.note}`);
  return [...lines, ...(notes.length ? ['', ...notes] : [])].join('\n');
}
