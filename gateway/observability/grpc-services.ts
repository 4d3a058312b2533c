/**
 * Health and reflection for every gRPC service the gateway serves. Health names each service (and
 * "" for the whole server); reflection serves the descriptors of the hdx.v1 protos and the health
 * proto, so stock tools (grpcurl, grpcui, Python's grpc_reflection client) can list and call them.
 */
import type { Server, ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `hdx.v1.RecordService` from a generated service definition (its methods' paths name it). */
export function serviceName(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0];
  if (!first) throw new TypeError('a service definition without methods');
  return first.path.split('/')[1]!;
}

export interface ServiceHealth {
  names: string[];
  set(status: ServingStatus): void;
}

export function addHealth(server: Server, names: string[]): ServiceHealth {
  const all = ['', ...names];
  const health = new HealthImplementation(Object.fromEntries(all.map((n) => [n, 'SERVING' as ServingStatus])));
  health.addToServer(server);
  return { names: all, set: (status) => all.forEach((n) => health.setStatus(n, status)) };
}

/** The folder holding `hdx/v1/*.proto`, found upward from this module (it runs from source or from a build). */
function protoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'hdx', 'v1', 'records.proto'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('proto/hdx/v1 not found beside the gateway: reflection needs the .proto files');
    dir = parent;
  }
}

export function addReflection(server: Server): void {
  const root = protoRoot();
  const files = readdirSync(join(root, 'hdx', 'v1'))
    .filter((f) => f.endsWith('.proto'))
    .map((f) => `hdx/v1/${f}`);
  const definition = loadSync([...files, healthProtoPath], {
    includeDirs: [root, dirname(dirname(dirname(healthProtoPath)))],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  new ReflectionService(definition).addToServer(server);
}
