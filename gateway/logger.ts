/**
 * Structured logging with pino. Log lines carry ids, party ids, codes and timings — never request
 * content. As a second line of defence, fields that could hold record data are redacted by path.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: 'hdx-gateway',
      level: options.level ?? process.env.HDX_LOG_LEVEL ?? 'info',
      redact: {
        paths: ['bundle', 'request', 'patientNationalId', 'patient_national_id', 'policyNumber', '*.bundle', '*.patientNationalId'],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ dest: 2, sync: false }),
  );
}
