/** The advisory locks hdx takes (two-key form: hdx's class, then which lock), one database per exchange. */
export const LOCK_CLASS = 0x68647800; // 'hdx\0'

export const LOCKS = {
  /** Held by the transaction applying migrations. */
  migrate: 1,
  /** Held on the leader's own connection while it integrates the log and signs checkpoints. */
  leader: 2,
} as const;
