import { dirname, resolve } from 'node:path';
import type * as ts from 'typescript';
import { ConfigError } from '../runtime/errors';

/** Enough of the compiler's messages to fix the first errors; the rest are usually follow-ons. */
const MAX_DIAGNOSTICS = 10;

/** Used when no tsconfig.json is found above the pipeline file: Weir's own strictness; every installed @types package is seen. */
const DEFAULT_OPTIONS = {
  target: 'ES2022',
  module: 'commonjs',
  moduleResolution: 'node',
  strict: true,
  esModuleInterop: true,
  skipLibCheck: true,
} as const;

/** A pipeline file that the TypeScript compiler rejects; `diagnostics` is the compiler's text. */
export class PipelineTypeError extends ConfigError {
  constructor(
    readonly file: string,
    readonly diagnostics: string,
  ) {
    super(`pipeline file ${file} does not type-check:\n${diagnostics}fix the file and run again`);
  }
}

/**
 * Type-checks a pipeline file with the TypeScript compiler before anything runs it: the CLI
 * and cdk synth load it through tsx/esbuild, which strip types without checking them, and the
 * repo's tsconfig covers only its own folders. The program holds that file and what it imports
 * (no project-wide check, no cache to go stale); compiler options come from the nearest
 * tsconfig.json above the file, else Weir's strict defaults.
 */
export function typecheckPipeline(file: string): void {
  const compiler = loadCompiler();
  const path = resolve(file);
  const options = { ...compilerOptions(compiler, path), noEmit: true };
  const program = compiler.createProgram([path], options);
  const errors = compiler.getPreEmitDiagnostics(program).filter((d) => d.category === compiler.DiagnosticCategory.Error);
  if (errors.length === 0) return;
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => '\n',
  };
  const shown = compiler.formatDiagnostics(errors.slice(0, MAX_DIAGNOSTICS), host);
  const more = errors.length > MAX_DIAGNOSTICS ? `(${errors.length - MAX_DIAGNOSTICS} more errors)\n` : '';
  throw new PipelineTypeError(file, shown + more);
}

function compilerOptions(compiler: typeof ts, path: string): ts.CompilerOptions {
  const configFile = compiler.findConfigFile(dirname(path), compiler.sys.fileExists);
  const raw = configFile ? compiler.readConfigFile(configFile, compiler.sys.readFile) : { config: { compilerOptions: DEFAULT_OPTIONS } };
  if (raw.error) throw new ConfigError(`${configFile} cannot be read: ${compiler.flattenDiagnosticMessageText(raw.error.messageText, '\n')}`);
  // Only its compilerOptions: its include/files would widen the check to a whole project.
  const config = { compilerOptions: (raw.config as { compilerOptions?: unknown }).compilerOptions ?? {} };
  const parsed = compiler.parseJsonConfigFileContent(config, compiler.sys, configFile ? dirname(configFile) : dirname(path), undefined, configFile);
  const bad = parsed.errors.filter((d) => d.category === compiler.DiagnosticCategory.Error && d.code !== NO_INPUTS);
  if (bad[0]) throw new ConfigError(`${configFile ?? 'compiler options'}: ${compiler.flattenDiagnosticMessageText(bad[0].messageText, '\n')}`);
  return parsed.options;
}

/** TS18003 "No inputs were found": expected, the options are parsed without the config's files. */
const NO_INPUTS = 18003;

function loadCompiler(): typeof ts {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('typescript') as typeof ts;
  } catch {
    throw new ConfigError('weir type-checks pipeline files with the TypeScript compiler, which is not installed; run `npm install typescript`');
  }
}
