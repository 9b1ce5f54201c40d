/** How the local stack reports what happens: one line per event, with a level. */
export type LogLevel = 'info' | 'warn' | 'error';
export type Log = (level: LogLevel, message: string) => void;

export const silentLog: Log = () => {};
