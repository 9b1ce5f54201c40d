import { Dashboard } from '../src/components/Dashboard.tsx';

// Rendered per request so that API_PUBLIC_URL is read at run time: one image serves every environment.
export const dynamic = 'force-dynamic';

export default function Page() {
  return <Dashboard apiBase={process.env.API_PUBLIC_URL ?? ''} />;
}
