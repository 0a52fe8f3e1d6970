// Errors that stop `sigops doctor` before it checks anything: options it cannot use. What the
// checks find is never thrown; it is data in the report.
import { SigopsError } from '../errors/index.ts';

/** An option of the doctor that cannot be used (unknown tenant, unreadable --ca, bad --connect-to). */
export class DoctorOptionError extends SigopsError {
  override readonly name = 'DoctorOptionError';
  constructor(message: string, advice: string) {
    super(message, { code: 'doctor-option', advice });
  }
}
