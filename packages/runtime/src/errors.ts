/** What an error says, for logs and failure records: its message, else its name, else the value itself. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
