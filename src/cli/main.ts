// The `sigops` command line: a thin shell over the concept modules. Each command lives in
// commands/<name>.ts and registers itself on the program.
import { Command, CommanderError } from 'commander';
import { registerValidate } from './commands/validate.ts';
import { registerPreview } from './commands/preview.ts';
import { registerSign } from './commands/sign.ts';
import { registerRelay } from './commands/relay.ts';
import { registerPlan } from './commands/plan.ts';
import { registerApply } from './commands/apply.ts';
import { registerLogin } from './commands/login.ts';
import { registerDirectory } from './commands/directory.ts';
import { registerUsage } from './commands/usage.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerFailover } from './commands/failover.ts';
import { reportError } from './report.ts';

const program = new Command();
program
  .name('sigops')
  .description('Company e-mail signatures for Microsoft 365, as configuration-as-code')
  .showHelpAfterError()
  .exitOverride();

for (const register of [
  registerValidate,
  registerPreview,
  registerSign,
  registerRelay,
  registerPlan,
  registerApply,
  registerFailover,
  registerDoctor,
  registerLogin,
  registerDirectory,
  registerUsage,
]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    reportError(undefined, err);
    process.exitCode = 1;
  }
}
