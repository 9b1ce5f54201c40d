import { describe, expect, it } from 'vitest';
import { decideReplicas, initialScalerState, type ScalerSettings, type ScalerState } from './scaler.ts';

const settings: ScalerSettings = {
  maxReplicas: 4,
  messagesPerPod: 3,
  activationThreshold: 0,
  cooldownMs: 15_000,
};

function decide(
  visible: number,
  inFlight: number,
  current: number,
  state: ScalerState,
  now: number,
  s = settings,
) {
  return decideReplicas({ visible, inFlight }, current, state, s, now);
}

describe('decideReplicas (KEDA aws-sqs-queue + HPA)', () => {
  it('stays at zero with an empty queue', () => {
    expect(decide(0, 0, 0, initialScalerState, 0).replicas).toBe(0);
  });

  it('scales from zero to ceil((visible + inFlight) / messagesPerPod), capped at max', () => {
    expect(decide(1, 0, 0, initialScalerState, 0).replicas).toBe(1);
    expect(decide(3, 0, 0, initialScalerState, 0).replicas).toBe(1);
    expect(decide(4, 0, 0, initialScalerState, 0).replicas).toBe(2);
    expect(decide(5, 2, 0, initialScalerState, 0).replicas).toBe(3);
    expect(decide(100, 0, 0, initialScalerState, 0).replicas).toBe(4);
  });

  it('counts in-flight messages, so workers busy with jobs are kept', () => {
    expect(decide(0, 6, 2, initialScalerState, 0).replicas).toBe(2);
  });

  it('activates only above the activation threshold', () => {
    const s = { ...settings, activationThreshold: 2 };
    expect(decide(2, 0, 0, initialScalerState, 0, s).replicas).toBe(0);
    expect(decide(3, 0, 0, initialScalerState, 0, s).replicas).toBe(1);
  });

  it('scales up at once but down only after the stabilization window', () => {
    let step = decide(12, 0, 0, initialScalerState, 0);
    expect(step.replicas).toBe(4);
    step = decide(2, 1, 4, step.state, 5_000);
    expect(step.replicas).toBe(4);
    step = decide(2, 1, 4, step.state, 15_001);
    expect(step.replicas).toBe(1);
  });

  it('keeps its size through the cooldown after the queue empties, then goes to zero', () => {
    let step = decide(3, 0, 0, initialScalerState, 0);
    expect(step.replicas).toBe(1);
    step = decide(0, 0, 1, step.state, 14_999);
    expect(step.replicas).toBe(1);
    step = decide(0, 0, 1, step.state, 15_000);
    expect(step.replicas).toBe(0);
  });

  it('a new message during the cooldown restarts it', () => {
    let step = decide(1, 0, 0, initialScalerState, 0);
    step = decide(0, 1, 1, step.state, 10_000);
    step = decide(0, 0, 1, step.state, 20_000);
    expect(step.replicas).toBe(1);
    step = decide(0, 0, 1, step.state, 25_000);
    expect(step.replicas).toBe(0);
  });
});
