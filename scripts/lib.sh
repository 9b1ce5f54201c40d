#!/usr/bin/env bash
# Shared helpers of the deploy scripts. Sourced, not run.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT

NAMESPACE="thumbnail-pipeline"
export NAMESPACE

log() {
  printf '\n==> %s\n' "$*" >&2
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

require_commands() {
  local missing=()
  local command
  for command in "$@"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("$command")
  done
  if ((${#missing[@]} > 0)); then
    die "missing commands: ${missing[*]} (install them, then run again)"
  fi
}

require_env() {
  local name
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || die "environment variable $name is not set"
  done
}

# Prints one output of a Terraform stack (terraform/, route53/, ...); fails if it does not exist.
tf_output() {
  local stack="$1" name="$2"
  terraform -chdir="$REPO_ROOT/$stack" output -raw "$name"
}

# Same, but prints nothing when the stack or the output does not exist yet.
tf_output_or_empty() {
  tf_output "$@" 2>/dev/null || true
}
