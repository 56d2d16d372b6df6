// Placeholder for the end-to-end demo (the lead replaces this file with the real one).

/** Runs the demo; until it is built this says so and fails (exit code 1). */
export async function runDemo(opts: { host: string; device?: string; inventory?: string; guest?: boolean; json?: boolean }): Promise<number> {
  void opts;
  process.stderr.write('rawpci: demo not built yet: src/demo/main.ts is a placeholder\n');
  return 1;
}
