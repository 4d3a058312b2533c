import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CertificateError } from '../../keys/errors.js';
import { createCa, issueCertificate, readPeerIdentity, type CertificateAuthority, type IssuedCertificate } from '../../keys/pki.js';

const GATEWAY = 'spiffe://hdx.local/gateway/gateway';
const HOSPITAL = 'spiffe://hdx.local/hospital/nanshan-people';

let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
let server: IssuedCertificate;
let client: IssuedCertificate;
let foreignClient: IssuedCertificate;

beforeAll(() => {
  ca = createCa({ trustDomain: 'hdx.local', validDays: 30 });
  otherCa = createCa({ trustDomain: 'hdx.local', validDays: 30 });
  server = issueCertificate(ca, {
    commonName: 'hdx-gateway',
    uri: GATEWAY,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    usage: 'server',
    validDays: 30,
  });
  client = issueCertificate(ca, { commonName: 'nanshan-people', uri: HOSPITAL, usage: 'client', validDays: 30 });
  foreignClient = issueCertificate(otherCa, { commonName: 'nanshan-people', uri: HOSPITAL, usage: 'client', validDays: 30 });
});

describe('certificates', () => {
  it('makes a CA and leaf certificates with the expected extensions', () => {
    const caCert = new X509Certificate(ca.certPem);
    const leaf = new X509Certificate(server.certPem);
    expect(caCert.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toContain(`URI:${GATEWAY}`);
    expect(leaf.subjectAltName).toContain('DNS:localhost');
    expect(leaf.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    expect(new X509Certificate(client.certPem).keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth only
    expect(leaf.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(leaf.serialNumber).not.toBe(new X509Certificate(client.certPem).serialNumber);
    expect(Number.parseInt(leaf.serialNumber.slice(0, 2), 16)).toBeLessThan(0x80);
    // the leaf cannot outlive the CA
    const longLived = new X509Certificate(issueCertificate(ca, { commonName: 'x', uri: HOSPITAL, usage: 'client', validDays: 3650 }).certPem);
    expect(Date.parse(longLived.validTo)).toBeLessThanOrEqual(Date.parse(caCert.validTo));
  });

  it('refuses caller mistakes', () => {
    expect(() => issueCertificate(ca, { commonName: 'x', usage: 'client', validDays: 1 })).toThrow(TypeError);
    expect(() => issueCertificate(ca, { commonName: 'x', uri: 'https://x', usage: 'client', validDays: 1 })).toThrow();
    expect(() => issueCertificate(ca, { commonName: 'x', ipAddresses: ['300.1.1.1'], usage: 'client', validDays: 1 })).toThrow(TypeError);
    expect(() => issueCertificate({ certPem: server.certPem, keyPem: server.keyPem }, { commonName: 'x', uri: HOSPITAL, usage: 'client', validDays: 1 })).toThrow(TypeError);
    expect(() => issueCertificate({ certPem: ca.certPem, keyPem: otherCa.keyPem }, { commonName: 'x', uri: HOSPITAL, usage: 'client', validDays: 1 })).toThrow(TypeError);
  });
});

describe('readPeerIdentity', () => {
  it('reads the single URI SAN', () => {
    expect(readPeerIdentity({ subjectaltname: `DNS:localhost, URI:${HOSPITAL}, IP Address:127.0.0.1` })).toBe(HOSPITAL);
  });
  it.each([
    [{}],
    [{ subjectaltname: '' }],
    [{ subjectaltname: 'DNS:localhost' }],
    [{ subjectaltname: `URI:${HOSPITAL}, URI:${GATEWAY}` }],
    [{ subjectaltname: 'URI:https://example.org/' }],
    [{ subjectaltname: `URI:"${HOSPITAL}, URI:${GATEWAY}"` }],
    [null],
  ])('refuses %j', (cert) => {
    expect(() => readPeerIdentity(cert as never)).toThrow(CertificateError);
  });
});

describe('mutual TLS with node:tls', () => {
  let srv: tls.Server;
  let port: number;
  const seen: string[] = [];
  const rejected: Error[] = [];

  beforeAll(async () => {
    srv = tls.createServer(
      { cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
      (socket) => {
        seen.push(readPeerIdentity(socket.getPeerCertificate()));
        socket.end('ok');
      },
    );
    srv.on('tlsClientError', (err) => rejected.push(err));
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    port = (srv.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => srv.close(() => r())));

  function connect(cert: IssuedCertificate | undefined, servername?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        ca: ca.certPem,
        ...(cert && { cert: cert.certPem, key: cert.keyPem }),
        ...(servername && { servername }),
      });
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (d) => (data += d));
      socket.on('error', reject);
      socket.on('close', () => (data === 'ok' ? resolve(data) : reject(new Error('closed without a reply'))));
    });
  }

  it('accepts a client certificate from the exchange CA and reads its SAN URI (by IP and by name)', async () => {
    await expect(connect(client)).resolves.toBe('ok');
    await expect(connect(client, 'localhost')).resolves.toBe('ok');
    expect(seen).toEqual([HOSPITAL, HOSPITAL]);
  });

  it('refuses a client certificate from another CA, and a client without one', async () => {
    const before = rejected.length;
    const accepted = seen.length;
    await expect(connect(foreignClient)).rejects.toThrow();
    await expect(connect(undefined)).rejects.toThrow();
    await vi.waitFor(() => expect(rejected.length).toBeGreaterThanOrEqual(before + 2));
    expect(seen.length).toBe(accepted);
  });

  it('the client refuses a server certificate of another CA', async () => {
    const foreignServer = issueCertificate(otherCa, { commonName: 'gw', uri: GATEWAY, dnsNames: ['localhost'], usage: 'server', validDays: 1 });
    const s2 = tls.createServer({ cert: foreignServer.certPem, key: foreignServer.keyPem }, (s) => s.end('ok'));
    s2.on('tlsClientError', () => {});
    s2.listen(0, '127.0.0.1');
    await once(s2, 'listening');
    const p = (s2.address() as AddressInfo).port;
    const err = await new Promise<Error>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: p, ca: ca.certPem, cert: client.certPem, key: client.keyPem, servername: 'localhost' });
      socket.on('error', resolve);
      socket.on('secureConnect', () => resolve(new Error('connected')));
    });
    await new Promise<void>((r) => s2.close(() => r()));
    expect(err.message).not.toBe('connected');
  });
});

describe('mutual TLS with @grpc/grpc-js', () => {
  it('serves a client of the exchange CA and exposes its identity through getAuthContext()', async () => {
    const grpcServer = new grpc.Server();
    const identity: string[] = [];
    const bytes = {
      path: '/hdx.test.Echo/Echo',
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    };
    grpcServer.addService({ Echo: bytes } as grpc.ServiceDefinition, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        identity.push(readPeerIdentity(call.getAuthContext()?.sslPeerCertificate));
        cb(null, call.request);
      },
    });
    const creds = grpc.ServerCredentials.createSsl(
      Buffer.from(ca.certPem),
      [{ cert_chain: Buffer.from(server.certPem), private_key: Buffer.from(server.keyPem) }],
      true,
    );
    const port = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))),
    );
    const call = (cert: IssuedCertificate) => {
      const Client = grpc.makeGenericClientConstructor({ Echo: bytes } as grpc.ServiceDefinition, 'Echo');
      const c = new Client(
        `localhost:${port}`,
        grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(cert.keyPem), Buffer.from(cert.certPem)),
      );
      return new Promise<Buffer>((resolve, reject) => {
        (c as unknown as { Echo: (b: Buffer, o: object, cb: (e: Error | null, r: Buffer) => void) => void }).Echo(
          Buffer.from('hi'),
          { deadline: Date.now() + 10_000 },
          (e, r) => {
            c.close();
            if (e) reject(e);
            else resolve(r);
          },
        );
      });
    };
    try {
      await expect(call(client)).resolves.toEqual(Buffer.from('hi'));
      expect(identity).toEqual([HOSPITAL]);
      await expect(call(foreignClient)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      expect(identity).toEqual([HOSPITAL]);
    } finally {
      grpcServer.forceShutdown();
    }
  });
});
