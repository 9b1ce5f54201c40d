/** Pod names the way a Deployment makes them: `<deployment>-<template hash>-<5 random characters>`. */
import { createHash, randomInt } from 'node:crypto';

// Kubernetes' safe alphabet for generated names (no vowels, no look-alike characters).
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function encode(bytes: Uint8Array, length: number): string {
  return Array.from(bytes.slice(0, length), (b) => ALPHABET[b % ALPHABET.length]).join('');
}

export function templateHash(template: unknown): string {
  return encode(createHash('sha256').update(JSON.stringify(template)).digest(), 10);
}

export function podName(deployment: string, hash: string): string {
  const suffix = Array.from({ length: 5 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${deployment}-${hash}-${suffix}`;
}
