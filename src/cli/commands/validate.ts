// `sigops validate`: checks a config repository and reports every problem with file:line:col.
import type { Command } from 'commander';
import { Option } from 'commander';
import { resolve } from 'node:path';
import { formatDiagnostics, loadConfigRepo, type DiagnosticFormat } from '../../config/index.ts';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a config repository: YAML syntax, JSON Schemas, templates and cross-file references')
    .option('-c, --config <dir>', 'path of the config repository', '.')
    .addOption(
      new Option('-f, --format <format>', 'output: text (people), github (workflow annotations), json (tools)')
        .choices(['text', 'github', 'json'])
        .default('text'),
    )
    .addHelpText('after', `
Every error names file:line:col and says what to fix; all errors are reported at once.
Warnings (unused templates, template variables no user has …) do not fail validation.

Exit status: 0 when the config is valid, 1 when it has errors.

Examples:
  $ sigops validate --config example-config
  $ sigops validate --config . --format github    # in a GitHub Actions step
  $ sigops validate --format json | jq '.errors[]'
`)
    .action(async (opts: { config: string; format: DiagnosticFormat }) => {
      const root = resolve(opts.config);
      const result = await loadConfigRepo(root);
      const errors = result.ok ? [] : result.errors;
      process.stdout.write(formatDiagnostics(errors, result.warnings, opts.format, { root, cwd: process.cwd() }));
      process.exitCode = result.ok ? 0 : 1;
    });
}
