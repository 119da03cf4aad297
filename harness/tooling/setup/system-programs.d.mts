interface SystemPackage {
  /** The Debian package that provides it. */
  debianPackage: string;
  /** What faultline uses it for. */
  purpose: string;
}
export interface SystemCommand extends SystemPackage {
  /** The command looked up on PATH (or a path). */
  command: string;
  /** Arguments that make it print its version; null: it must not be run, only looked for. */
  versionArgs: string[] | null;
}
export interface SystemLibrary extends SystemPackage {
  /** A file the package installs (a header), looked for instead of a command: a library has none. */
  file: string;
}
export type SystemProgram = SystemCommand | SystemLibrary;
export declare const systemPrograms: readonly SystemProgram[];
