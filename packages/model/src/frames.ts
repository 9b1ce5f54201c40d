/** The three positions, as a fraction of a video's duration, that every video gets a thumbnail for. */
export const FRAMES = [
  { label: '10%', fraction: 0.1, slug: '10' },
  { label: '50%', fraction: 0.5, slug: '50' },
  { label: '95%', fraction: 0.95, slug: '95' },
] as const;

export type Frame = (typeof FRAMES)[number];
export type FrameLabel = Frame['label'];
export const FRAME_LABELS: readonly FrameLabel[] = FRAMES.map((f) => f.label);

export function frameBySlug(slug: string): Frame | undefined {
  return FRAMES.find((f) => f.slug === slug);
}

export function frameByLabel(label: string): Frame | undefined {
  return FRAMES.find((f) => f.label === label);
}
