// The AWS SDK warns on Node 20 about its support date (Lambda runs Node 22): noise in the
// bench's output. Imported first by the bench's entry points.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = `${warning instanceof Error ? warning.name : String(rest[0])} ${String(warning)}`;
  if (text.includes('NodeVersionSupportWarning')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
