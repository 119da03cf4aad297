import type { DriverDefinition } from './driver.ts';
import { httpDriver } from './http-driver.ts';
import { idsDriver } from './ids-driver.ts';
import { lockDriver } from './lock/lock-driver.ts';
import { messagingDriver } from './messaging/messaging-driver.ts';
import { rpcDriver } from './rpc/rpc-driver.ts';

// Each entry keeps its own workload type; the registry only checks that every entry is a driver.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDriver = DriverDefinition<any>;

/** Every workload kind, by the workload's `kind`. Adding one: its file, its test, one line here, one README row. */
export const drivers = {
  http: httpDriver,
  messaging: messagingDriver,
  ids: idsDriver,
  lock: lockDriver,
  rpc: rpcDriver,
} satisfies Record<string, AnyDriver>;
