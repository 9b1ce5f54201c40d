import { readFileSync } from 'node:fs';
import { listFiles, repoPath } from './repo.ts';
import { parseTerraformFile } from './terraform.ts';

/** IAM actions that each AWS SDK v3 command needs (CopyObject reads the source and writes the copy). */
export const COMMAND_ACTIONS: Record<string, string[]> = {
  GetObjectCommand: ['s3:GetObject'],
  HeadObjectCommand: ['s3:GetObject'],
  PutObjectCommand: ['s3:PutObject'],
  CopyObjectCommand: ['s3:GetObject', 's3:PutObject'],
  DeleteObjectCommand: ['s3:DeleteObject'],
  DeleteObjectsCommand: ['s3:DeleteObject'],
  ListObjectsV2Command: ['s3:ListBucket'],
  HeadBucketCommand: ['s3:ListBucket'],
  ReceiveMessageCommand: ['sqs:ReceiveMessage'],
  DeleteMessageCommand: ['sqs:DeleteMessage'],
  DeleteMessageBatchCommand: ['sqs:DeleteMessage'],
  ChangeMessageVisibilityCommand: ['sqs:ChangeMessageVisibility'],
  ChangeMessageVisibilityBatchCommand: ['sqs:ChangeMessageVisibility'],
  GetQueueAttributesCommand: ['sqs:GetQueueAttributes'],
  SetQueueAttributesCommand: ['sqs:SetQueueAttributes'],
  SendMessageCommand: ['sqs:SendMessage'],
  SendMessageBatchCommand: ['sqs:SendMessage'],
  CreateQueueCommand: ['sqs:CreateQueue'],
  DeleteQueueCommand: ['sqs:DeleteQueue'],
  GetQueueUrlCommand: ['sqs:GetQueueUrl'],
  StartMessageMoveTaskCommand: ['sqs:StartMessageMoveTask'],
  ListMessageMoveTasksCommand: ['sqs:ListMessageMoveTasks'],
  PublishCommand: ['sns:Publish'],
  SubscribeCommand: ['sns:Subscribe'],
  UnsubscribeCommand: ['sns:Unsubscribe'],
  CreateTopicCommand: ['sns:CreateTopic'],
};

/** The AWS SDK commands an app's source sends (test files and test helpers excluded). */
export function commandsInSource(sources: string[]): Set<string> {
  const commands = new Set<string>();
  for (const text of sources) {
    for (const [, command] of text.matchAll(/new ([A-Z][A-Za-z0-9]*Command)\s*\(/g))
      commands.add(command ?? '');
  }
  return commands;
}

export function appSources(app: string): string[] {
  return listFiles(`apps/${app}/src`, (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .filter((file) => !file.includes('/testing/'))
    .map((file) => readFileSync(repoPath(file), 'utf8'));
}

/** Actions the commands need; a command missing from COMMAND_ACTIONS is reported, never guessed. */
export function actionsFor(commands: Set<string>): { actions: Set<string>; unknown: string[] } {
  const actions = new Set<string>();
  const unknown: string[] = [];
  for (const command of commands) {
    const needed = COMMAND_ACTIONS[command];
    if (needed) needed.forEach((a) => actions.add(a));
    else unknown.push(command);
  }
  return { actions, unknown };
}

export interface Statement {
  sid?: string;
  effect?: string;
  actions: string[];
  resources: string[];
}

/** The statements of each `data "aws_iam_policy_document"` in a Terraform file, by name. */
export async function policyDocuments(
  text: string,
  file = 'terraform/iam.tf',
): Promise<Map<string, Statement[]>> {
  const json = await parseTerraformFile(file, text);
  const documents = ((json.data as Record<string, Record<string, { statement?: Statement[] }[]>>) ?? {})
    .aws_iam_policy_document;
  return new Map(Object.entries(documents ?? {}).map(([name, bodies]) => [name, bodies[0]?.statement ?? []]));
}

/** Differences between what a policy grants and what the code calls: both directions are problems. */
export function policyProblems(statements: Statement[], used: Set<string>): string[] {
  const granted = new Set(statements.filter((s) => s.effect !== 'Deny').flatMap((s) => s.actions));
  const problems: string[] = [];
  for (const action of used)
    if (!granted.has(action)) problems.push(`code calls ${action}, the policy does not grant it`);
  for (const action of granted)
    if (!used.has(action)) problems.push(`policy grants ${action}, the code never calls it`);
  for (const s of statements) {
    if (s.resources.includes('*')) problems.push(`${s.sid ?? 'a statement'} applies to every resource`);
    if (s.actions.some((a) => a.endsWith('*')))
      problems.push(`${s.sid ?? 'a statement'} grants a wildcard action`);
  }
  return problems;
}

/** Resources (as written in Terraform) on which a policy grants one action. */
export function resourcesOf(statements: Statement[], action: string): string[] {
  return statements.filter((s) => s.actions.includes(action)).flatMap((s) => s.resources);
}
