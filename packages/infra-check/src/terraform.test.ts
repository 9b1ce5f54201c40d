import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { videoSuffixVariants } from '@thumbs/model';
import { listFiles, repoPath } from './repo.ts';
import {
  checkModule,
  checkStack,
  fargateAddonProblems,
  loadModule,
  parseTerraformFile,
  STACKS,
} from './terraform.ts';
import { renderVideoSuffixesTf, SUFFIXES_FILE } from './video-suffixes.ts';

const tfFiles = STACKS.flatMap((stack) => listFiles(stack, (name) => name.endsWith('.tf')));

/** A module of the repository checked with one file replaced by a broken copy. */
async function problemsWith(dir: string, file: string, edit: (text: string) => string): Promise<string[]> {
  const original = readFileSync(repoPath(dir, file), 'utf8');
  const broken = edit(original);
  expect(broken).not.toBe(original);
  return checkModule(await loadModule(repoPath(dir), { [file]: broken }));
}

describe('terraform: every file parses', () => {
  it('finds the four stacks', () => {
    for (const stack of STACKS) expect(tfFiles.some((file) => file.startsWith(`${stack}/`))).toBe(true);
  });

  it.each(tfFiles)('%s parses', async (file) => {
    await expect(parseTerraformFile(file, readFileSync(repoPath(file), 'utf8'))).resolves.toBeTypeOf(
      'object',
    );
  });

  it('rejects a file with a syntax error', async () => {
    const text = readFileSync(repoPath('terraform/main.tf'), 'utf8').replace(
      'source = "./modules/network"',
      'source = ',
    );
    await expect(parseTerraformFile('terraform/main.tf', text)).rejects.toThrow(/main\.tf:\d+/);
  });
});

describe('terraform: every reference resolves', () => {
  it.each(STACKS)('%s and its modules', async (stack) => {
    expect(await checkStack(repoPath(stack))).toEqual([]);
  });

  it('catches a misspelt variable', async () => {
    const problems = await problemsWith('terraform', 'main.tf', (t) =>
      t.replace('var.vpc_cidr', 'var.vpc_cdir'),
    );
    expect(problems).toEqual([expect.stringMatching(/var\.vpc_cdir: no such variable/)]);
  });

  it('catches a missing local, resource and data source', async () => {
    const problems = await problemsWith('terraform/modules/queues', 'main.tf', (t) =>
      t
        .replace('aws_sqs_queue.dlq.arn\n', 'aws_sqs_queue.dead.arn\n')
        .replace(
          'data.aws_iam_policy_document.s3_may_send.json',
          'data.aws_iam_policy_document.s3_send.json',
        ),
    );
    expect(problems.join('\n')).toMatch(/aws_sqs_queue\.dead\.arn: no such resource/);
    expect(problems.join('\n')).toMatch(/s3_send\.json: no such data source/);
    const local = await problemsWith('terraform', 'iam.tf', (t) =>
      t.replace('local.bucket_arn}/uploads', 'local.bucket}/uploads'),
    );
    expect(local.join('\n')).toMatch(/local\.bucket: no such local value/);
  });

  it('catches a module output, argument or required variable that does not exist', async () => {
    const output = await problemsWith('terraform', 'outputs.tf', (t) =>
      t.replace('module.queues.dlq_url', 'module.queues.dlq'),
    );
    expect(output).toEqual([expect.stringMatching(/module has no output "dlq"/)]);
    const argument = await problemsWith('terraform', 'main.tf', (t) =>
      t.replace('max_receive_count =', 'max_receives ='),
    );
    expect(argument.join('\n')).toMatch(/argument "max_receives" is not a variable/);
    expect(argument.join('\n')).toMatch(/required variable "max_receive_count" .* is not set/);
  });

  it('catches a resource whose provider is not pinned', async () => {
    const problems = await problemsWith('bootstrap-terraform', 'versions.tf', (t) =>
      t.replace(/aws = \{[^}]*\}/, ''),
    );
    expect(problems.join('\n')).toMatch(/uses provider "aws" missing from required_providers/);
  });
});

describe('terraform: providers are pinned', () => {
  it.each(STACKS)('%s/versions.tf pins Terraform and every provider', async (stack) => {
    const json = await parseTerraformFile(
      'versions.tf',
      readFileSync(repoPath(stack, 'versions.tf'), 'utf8'),
    );
    const settings = (json.terraform as Record<string, unknown>[])[0] ?? {};
    expect(settings.required_version).toMatch(/^>= 1\.\d+/);
    const required =
      (settings.required_providers as Record<string, { source: string; version: string }>[])[0] ?? {};
    expect(Object.keys(required)).toContain('aws');
    for (const provider of Object.values(required)) expect(provider.version).toMatch(/^~> \d+\.\d+/);
    expect(settings.backend).toBeDefined();
  });
});

describe('terraform: the S3 notification matches the model', () => {
  const suffixesIn = async (text: string): Promise<string[]> => {
    const json = await parseTerraformFile(SUFFIXES_FILE, text);
    return (json.locals as { video_suffix_variants: string[] }[])[0]?.video_suffix_variants ?? [];
  };

  it('lists every case spelling of every video suffix, as generated', async () => {
    const text = readFileSync(repoPath(SUFFIXES_FILE), 'utf8');
    expect(text).toBe(renderVideoSuffixesTf());
    const suffixes = await suffixesIn(text);
    expect(suffixes).toHaveLength(72);
    expect(new Set(suffixes)).toEqual(new Set(videoSuffixVariants()));
  });

  it('turns each suffix into a queue rule on uploads/', async () => {
    const module = await loadModule(repoPath(dirname(SUFFIXES_FILE)));
    const notification = module.resources.get('aws_s3_bucket_notification.uploads') as {
      dynamic: { queue: { for_each: string; content: Record<string, unknown>[] }[] };
    };
    const queue = notification.dynamic.queue[0];
    expect(queue?.for_each).toBe('${local.video_suffix_variants}');
    expect(queue?.content[0]).toMatchObject({
      filter_suffix: '${queue.value}',
      filter_prefix: '${var.prefix}',
      // A deleted video reaches the pipeline too (its results go with it).
      events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
    });
    const root = await loadModule(repoPath('terraform'));
    expect(root.modules.get('upload_notifications')).toMatchObject({ prefix: 'uploads/' });
  });

  it('notices a spelling that is missing', async () => {
    const text = renderVideoSuffixesTf().replace('    ".Mp4",\n', '');
    const suffixes = await suffixesIn(text);
    expect(videoSuffixVariants().filter((s) => !suffixes.includes(s))).toEqual(['.Mp4']);
  });
});

describe('terraform: a Fargate-only cluster', () => {
  it('has no add-on that runs DaemonSets', async () => {
    expect(await fargateAddonProblems(repoPath('terraform'))).toEqual([]);
  });

  it('catches the CloudWatch observability add-on', async () => {
    const iam = readFileSync(repoPath('terraform/iam.tf'), 'utf8');
    const planted = `${iam}
resource "aws_eks_addon" "container_insights" {
  cluster_name = module.cluster.name
  addon_name   = "amazon-cloudwatch-observability"
}
`;
    expect(await fargateAddonProblems(repoPath('terraform'), { terraform: { 'iam.tf': planted } })).toEqual([
      'aws_eks_addon.container_insights: amazon-cloudwatch-observability runs DaemonSets, which Fargate cannot run',
    ]);
  });

  it('lets only its own Fargate profiles use the pod execution role, and lets people in', async () => {
    const cluster = await loadModule(repoPath('terraform/modules/cluster'));
    const trust = JSON.stringify(cluster.data.get('aws_iam_policy_document.pod_execution_trust'));
    expect(trust).toContain('"variable":"aws:SourceArn"');
    expect(trust).toContain(':fargateprofile/${var.name}/*');
    // Access entries for the people in var.admin_principal_arns, which the root stack must pass on.
    expect(cluster.resources.get('aws_eks_access_entry.admin')?.for_each).toBe(
      '${toset(var.admin_principal_arns)}',
    );
    const root = await loadModule(repoPath('terraform'));
    expect(root.modules.get('cluster')?.admin_principal_arns).toBe('${var.admin_principal_arns}');
  });
});

describe('terraform: the load balancer controller policy is the published one', () => {
  // docs/install/iam_policy.json of kubernetes-sigs/aws-load-balancer-controller at v2.13.4 (commit
  // aefed36aa305), the app version of the Helm chart pinned in scripts/install-controllers.sh. Bumping the
  // chart means copying that release's file and updating both lines.
  const PUBLISHED = {
    chart: '1.13.4',
    sha256: '16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a',
  };

  it('is an unchanged copy for the pinned chart', () => {
    const policy = readFileSync(repoPath('terraform/load_balancer_controller_iam_policy.json'));
    expect(createHash('sha256').update(policy).digest('hex')).toBe(PUBLISHED.sha256);
    expect(readFileSync(repoPath('scripts/install-controllers.sh'), 'utf8')).toContain(
      `LOAD_BALANCER_CONTROLLER_CHART_VERSION="${PUBLISHED.chart}"`,
    );
    expect(readFileSync(repoPath('terraform/iam.tf'), 'utf8')).toMatch(
      /policy_json\s+= local\.load_balancer_controller_policy/,
    );
  });
});

/**
 * A stack with a `data "aws_lb"` fails any plan, destroy included, once the ALB is gone: the destroy
 * workflow must destroy it (or apply it without that data source) before the teardown deletes the ALB.
 */
function albReadOrderProblems(destroyWorkflow: string): string[] {
  const teardown = destroyWorkflow.indexOf('scripts/teardown-k8s.sh');
  return STACKS.filter((stack) =>
    listFiles(stack, (name) => name.endsWith('.tf')).some((file) =>
      readFileSync(repoPath(file), 'utf8').includes('data "aws_lb"'),
    ),
  )
    .filter((stack) => {
      const step = destroyWorkflow.search(new RegExp(`terraform -chdir=${stack} (destroy|apply)`));
      return step < 0 || step > teardown;
    })
    .map(
      (stack) =>
        `${stack} reads the ALB (data "aws_lb") but is torn down after scripts/teardown-k8s.sh deletes it`,
    );
}

describe('terraform: teardown order', () => {
  it('tears down the stacks that read the ALB while it still exists', () => {
    const text = readFileSync(repoPath('.github/workflows/terraform-destroy.yml'), 'utf8');
    expect(albReadOrderProblems(text)).toEqual([]);
    // The order that left the buckets and the main stack standing: alarms destroyed after the ALB went.
    const alarms = text.slice(
      text.indexOf('      - name: Destroy the alarms'),
      text.indexOf('      - name: Remove the alias'),
    );
    const late = text
      .replace(alarms, '')
      .replace('      - name: Empty the buckets', `${alarms}      - name: Empty the buckets`);
    expect(albReadOrderProblems(late)).toEqual([
      'terraform-monitoring reads the ALB (data "aws_lb") but is torn down after scripts/teardown-k8s.sh deletes it',
    ]);
  });
});
