export interface SystemProgram {
  /** The command looked up on PATH. */
  command: string;
  /** The Debian package that provides it. */
  debianPackage: string;
  /** What faultline uses it for. */
  purpose: string;
  /** Arguments that make it print its version. */
  versionArgs: string[];
}
export declare const systemPrograms: readonly SystemProgram[];
