export { initExchange, DEFAULT_PARTIES } from './exchange/init.js';
export type { InitExchangeOptions, ExchangeSummary, ExchangePartySummary, PartySpec } from './exchange/init.js';
export { issueParty } from './exchange/issue.js';
export type { IssuePartyInput, IssuePartyOptions } from './exchange/issue.js';
export { rotatePartyKey } from './exchange/rotate.js';
export type { RotateKeyOptions, RotateKeyResult } from './exchange/rotate.js';
export { loadPartyIdentity, loadGatewayIdentity } from './exchange/load.js';
export type { PartyIdentity, GatewayIdentity, PartyInfo, TlsFiles } from './exchange/load.js';
