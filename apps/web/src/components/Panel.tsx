import type { ReactNode } from 'react';

/** A titled dashboard section; `area` places it in the page grid. */
export function Panel({
  id,
  title,
  area,
  actions,
  subtitle,
  children,
}: {
  id: string;
  title: string;
  area: string;
  actions?: ReactNode;
  subtitle?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className={`panel area-${area}`} aria-labelledby={`${id}-title`} data-testid={id}>
      <header className="panel-head">
        <div>
          <h2 id={`${id}-title`}>{title}</h2>
          {subtitle && <p className="panel-sub">{subtitle}</p>}
        </div>
        {actions && <div className="panel-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Skeleton({ height = 120 }: { height?: number }) {
  return <div className="skeleton" style={{ height }} aria-hidden="true" />;
}
