/**
 * Floors measured in the same run as the product's figures (DESIGN §6), so each figure can be read
 * against what the machine does at all: one JWE (ECDH-ES+A256KW/A256GCM, P-256) of 4 KB, one ES256 JWS,
 * SHA-256 of 4 KB, and a bare grpc-js unary echo of 4 KB (client and server in one process, plaintext).
 */
import { Server, ServerCredentials, credentials, makeGenericClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { createHash, randomBytes } from 'node:crypto';
import { CompactEncrypt, CompactSign, generateKeyPair } from 'jose';
import type { BenchLine, BenchOptions } from './types.js';

async function rate(seconds: number, op: () => Promise<unknown> | unknown, batch = 1): Promise<number> {
  for (let i = 0; i < 50; i++) await op(); // warm up
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < batch; i++) await op();
    n += batch;
  }
  return n / ((performance.now() - start) / 1000);
}

async function grpcEchoRate(seconds: number): Promise<number> {
  const identity = (b: Buffer) => b;
  const definition: ServiceDefinition = {
    echo: { path: '/bench.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  };
  const server = new Server();
  server.addService(definition, { echo: (call: { request: Buffer }, cb: (e: null, r: Buffer) => void) => cb(null, call.request) });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const Client = makeGenericClientConstructor(definition, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as {
    echo(b: Buffer, cb: (e: Error | null, r: Buffer) => void): void;
    close(): void;
  };
  const payload = randomBytes(4096);
  const call = () => new Promise<void>((res, rej) => client.echo(payload, (e) => (e ? rej(e) : res())));
  // 16 calls in flight, as a server under load would see.
  const value = await rate(seconds, () => Promise.all(Array.from({ length: 16 }, call)), 1);
  client.close();
  server.forceShutdown();
  return value * 16;
}

export async function bench(options: BenchOptions): Promise<BenchLine[]> {
  const seconds = options.quick ? 0.5 : 2;
  const payload = randomBytes(4096);
  const enc = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' });
  const sig = await generateKeyPair('ES256');
  return [
    {
      name: 'floor: JWE ECDH-ES+A256KW P-256 encrypt 4 KB (1 core)',
      value: await rate(seconds, () => new CompactEncrypt(payload).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' }).encrypt(enc.publicKey)),
      unit: 'ops/s',
      note: 'DESIGN §6 ≈ 1,300/s',
    },
    {
      name: 'floor: JWS ES256 sign (1 core)',
      value: await rate(seconds, () => new CompactSign(payload.subarray(0, 512)).setProtectedHeader({ alg: 'ES256' }).sign(sig.privateKey)),
      unit: 'ops/s',
      note: 'DESIGN §6 ≈ 6,700/s',
    },
    {
      name: 'floor: SHA-256 of 4 KB (1 core)',
      value: await rate(seconds, () => createHash('sha256').update(payload).digest(), 1000),
      unit: 'ops/s',
      note: 'DESIGN §6 ≈ 210,000/s',
    },
    {
      name: 'floor: bare grpc-js unary echo 4 KB, one process',
      value: await grpcEchoRate(seconds),
      unit: 'calls/s',
      note: 'DESIGN §6 ≈ 6,000/s',
    },
  ];
}
