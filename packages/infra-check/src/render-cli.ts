// Prints the Kubernetes manifests with the per-account values taken from the environment, ready for
// `kubectl apply -f -` (scripts/deploy-manifests.sh). Exits non-zero, naming each missing value, otherwise.
import { RenderError, renderManifests, toYamlStream } from './manifests.ts';

try {
  process.stdout.write(toYamlStream(renderManifests(process.env)));
} catch (error) {
  if (!(error instanceof RenderError)) throw error;
  process.stderr.write(`render-manifests: ${error.message}\n`);
  process.exit(1);
}
