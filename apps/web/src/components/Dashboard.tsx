'use client';

import { useEffect, useState } from 'react';
import { apiEndpoints, type ApiEndpoints } from '../lib/api-url.ts';
import { useLivePipeline } from '../lib/use-live-pipeline.ts';
import { useOpenVideo } from '../lib/video-link.ts';
import { AdminProvider } from './AdminProvider.tsx';
import { ApiBaseProvider } from './ApiBase.tsx';
import { Charts } from './Charts.tsx';
import { Failures } from './Failures.tsx';
import { Gallery } from './Gallery.tsx';
import { Header } from './Header.tsx';
import { JobNotices } from './JobNotices.tsx';
import { Jobs } from './Jobs.tsx';
import { Overview } from './Overview.tsx';
import { PipelineView } from './PipelineView.tsx';
import { PodGrid } from './PodGrid.tsx';
import { StaleBanner } from './StaleBanner.tsx';
import { ToastProvider } from './Toasts.tsx';
import { Upload } from './Upload.tsx';
import { VideoDetail } from './VideoDetail.tsx';

export function Dashboard({ apiBase }: { apiBase: string }) {
  // The page's own origin is only known in the browser (same-origin mode behind the ALB).
  const [endpoints, setEndpoints] = useState<ApiEndpoints | null>(null);
  useEffect(() => setEndpoints(apiEndpoints(apiBase, window.location)), [apiBase]);
  const live = useLivePipeline(endpoints?.ws ?? null);
  const { state } = live;
  const stale = live.status !== 'live' && state !== null;
  const openVideo = useOpenVideo();

  return (
    <ApiBaseProvider api={endpoints?.http ?? apiBase}>
      <ToastProvider>
        <AdminProvider>
          <Header live={live} />
          <StaleBanner live={live} />
          <main className={`layout${stale ? ' is-stale' : ''}`} aria-busy={state === null}>
            <Overview state={state} />
            <PipelineView state={state} />
            <Charts state={state} />
            <PodGrid pods={state?.pods ?? null} jobs={state?.jobs ?? []} />
            <Upload state={state} />
            <Jobs jobs={state?.jobs ?? null} />
            <Failures dlq={state?.dlq ?? null} backfill={state?.backfill ?? null} />
            <Gallery thumbnails={state?.thumbnails ?? null} total={state?.metrics.thumbnails ?? 0} />
          </main>
          {openVideo && (
            <VideoDetail
              key={openVideo}
              source={openVideo}
              job={state?.jobs.find((job) => job.source === openVideo) ?? null}
            />
          )}
          <JobNotices jobs={state?.jobs ?? null} />
          <footer className="footer muted small">
            Thumbnail pipeline · S3 → SQS → workers → S3 · live over one WebSocket
          </footer>
        </AdminProvider>
      </ToastProvider>
    </ApiBaseProvider>
  );
}
