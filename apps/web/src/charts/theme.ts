export const chartTheme = {
  cyan: '#38bdf8',
  violet: '#a78bfa',
  green: '#34d399',
  amber: '#fbbf24',
  red: '#f87171',
  pink: '#f472b6',
  grid: '#1e2633',
  axis: '#7d8799',
  tooltip: {
    background: '#141a24',
    border: '1px solid #2a3342',
    borderRadius: 8,
    color: '#e6edf3',
    fontSize: 12,
  },
};

export function timeLabel(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
