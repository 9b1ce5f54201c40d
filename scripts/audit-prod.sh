#!/usr/bin/env bash
# Fails when a production dependency (what the images ship; devDependencies are left out) has a high or
# critical advisory. Usage: scripts/audit-prod.sh
# The advisory endpoint is the npm registry's; where it does not answer (a mirror without it),
# AUDIT_UNAVAILABLE_OK=1 makes that a warning instead of a failure. Findings always fail.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT" || exit 1

# ~/.npmrc may say audit=false: --audit=true makes the audit run whatever the machine's npm config says.
report="$(npm audit --omit=dev --audit=true --json 2>/dev/null || true)"

# shellcheck disable=SC2016 # JavaScript, not shell: nothing to expand.
AUDIT_REPORT="$report" node --input-type=module -e '
  const text = process.env.AUDIT_REPORT ?? "";
  let report;
  try {
    report = JSON.parse(text);
  } catch {
    report = { message: text.trim().slice(0, 300) || "no output" };
  }
  const counts = report.metadata?.vulnerabilities;
  if (!counts) {
    console.error(`npm audit could not run: ${report.message ?? report.error?.summary ?? "unknown error"}`);
    process.exit(process.env.AUDIT_UNAVAILABLE_OK === "1" ? 0 : 2);
  }
  const serious = Object.values(report.vulnerabilities ?? {}).filter(
    (v) => v.severity === "high" || v.severity === "critical",
  );
  for (const v of serious) {
    const fix = v.fixAvailable === false ? "no fix available" : "fix available";
    console.error(`${v.severity}: ${v.name} ${v.range} (${fix})`);
  }
  console.log(
    `production dependencies: ${counts.critical} critical, ${counts.high} high, ` +
      `${counts.moderate} moderate, ${counts.low} low`,
  );
  process.exit(serious.length > 0 ? 1 : 0);
'
