/**
 * How many workers to run, decided the way KEDA's aws-sqs-queue scaler and the HPA behind it decide:
 * the metric is visible + in-flight messages; above the activation threshold the target is
 * ceil(metric / messagesPerPod) within 1…max, scale-up is immediate, scale-down takes the highest
 * recommendation of the last `cooldownMs` (the HPA's stabilization window); at or below activation the
 * fleet keeps its size until `cooldownMs` have passed since it was last active, then goes to zero.
 */
export interface ScalerSettings {
  maxReplicas: number;
  messagesPerPod: number;
  activationThreshold: number;
  cooldownMs: number;
}

export interface QueueMetric {
  visible: number;
  inFlight: number;
}

export interface ScalerState {
  lastActiveAt?: number;
  recommendations: { time: number; replicas: number }[];
}

export const initialScalerState: ScalerState = { recommendations: [] };

export function decideReplicas(
  metric: QueueMetric,
  current: number,
  state: ScalerState,
  settings: ScalerSettings,
  now: number,
): { replicas: number; state: ScalerState } {
  const total = metric.visible + metric.inFlight;
  const recent = state.recommendations.filter((r) => now - r.time < settings.cooldownMs);
  if (total <= settings.activationThreshold) {
    const cooledDown = state.lastActiveAt === undefined || now - state.lastActiveAt >= settings.cooldownMs;
    return { replicas: cooledDown ? 0 : current, state: { ...state, recommendations: recent } };
  }
  const wanted = Math.min(settings.maxReplicas, Math.max(1, Math.ceil(total / settings.messagesPerPod)));
  const recommendations = [...recent, { time: now, replicas: wanted }];
  const stabilized = Math.max(...recommendations.map((r) => r.replicas));
  // Up at once; down no further than the highest recommendation in the window.
  const replicas = wanted >= current ? wanted : Math.min(current, stabilized);
  return { replicas, state: { lastActiveAt: now, recommendations } };
}
