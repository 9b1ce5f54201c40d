/** The coloured key under a chart: one swatch and label per series. */
export function ChartLegend({ items }: { items: readonly { label: string; color: string }[] }) {
  return (
    <ul className="legend">
      {items.map(({ label, color }) => (
        <li key={label} style={{ color }}>
          <span className="legend-swatch" /> {label}
        </li>
      ))}
    </ul>
  );
}
